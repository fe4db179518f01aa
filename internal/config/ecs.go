package config

import (
	"fmt"
	"regexp"
	"strings"
)

// ECSProvider runs each agent as an Amazon ECS task (Fargate or EC2 capacity providers). It
// mirrors ecs.Options; cmd/adofleet maps one to the other.
type ECSProvider struct {
	// Region of the cluster (default: aws.region, else the AWS SDK's lookup, AWS_REGION...).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Cluster name or ARN.
	Cluster string `yaml:"cluster" json:"cluster"`
	// TaskDefinition is family, family:revision or an ARN; a pool's template replaces it.
	TaskDefinition string `yaml:"taskDefinition" json:"taskDefinition"`
	// ContainerName is the agent container whose environment is overridden (default "agent").
	ContainerName string `yaml:"containerName,omitempty" json:"containerName,omitempty"`
	// LaunchType (FARGATE, EC2, EXTERNAL) or capacityProviderStrategy, not both.
	LaunchType               string                    `yaml:"launchType,omitempty" json:"launchType,omitempty"`
	CapacityProviderStrategy []ECSCapacityProviderItem `yaml:"capacityProviderStrategy,omitempty" json:"capacityProviderStrategy,omitempty"`
	// Subnets and SecurityGroups of the tasks' network interfaces (awsvpc).
	Subnets        []string `yaml:"subnets" json:"subnets"`
	SecurityGroups []string `yaml:"securityGroups,omitempty" json:"securityGroups,omitempty"`
	// AssignPublicIP gives tasks a public IP; default false (reach ADO through a NAT gateway).
	AssignPublicIP  bool   `yaml:"assignPublicIp,omitempty" json:"assignPublicIp,omitempty"`
	PlatformVersion string `yaml:"platformVersion,omitempty" json:"platformVersion,omitempty"`
	// CPU and Memory override the task size ("512", "1 vCPU", "2048").
	CPU    string `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	Memory string `yaml:"memory,omitempty" json:"memory,omitempty"`
	// Env adds plain environment variables to every agent.
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	// Secrets the task definition's agent container declares; AZP_TOKEN must be one of them
	// (RunTask cannot pass secrets, so the provider checks the task definition instead).
	Secrets []ECSSecret `yaml:"secrets" json:"secrets"`
	// Group of the tasks (default ECS's family:<family>).
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
	// CallTimeout bounds each ECS call, retries included (default 30s).
	CallTimeout Duration `yaml:"callTimeout,omitempty" json:"callTimeout,omitempty"`
	// MaxAttempts of the SDK's retryer per call (default 5).
	MaxAttempts int `yaml:"maxAttempts,omitempty" json:"maxAttempts,omitempty"`
	// Endpoint overrides the ECS endpoint (for testing and VPC endpoints).
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
}

// ECSCapacityProviderItem is one item of a capacity-provider strategy.
type ECSCapacityProviderItem struct {
	Provider string `yaml:"provider" json:"provider"`
	Weight   int    `yaml:"weight,omitempty" json:"weight,omitempty"`
	Base     int    `yaml:"base,omitempty" json:"base,omitempty"`
}

// ECSSecret is a container secret: ECS fills the variable Name from ValueFrom, an SSM parameter
// (ARN or name) or a Secrets Manager secret ARN.
type ECSSecret struct {
	Name      string `yaml:"name" json:"name"`
	ValueFrom string `yaml:"valueFrom" json:"valueFrom"`
}

var ecsLaunchTypes = map[string]bool{"FARGATE": true, "EC2": true, "EXTERNAL": true}

// Validate returns one message per problem, each prefixed with the field's path under path
// (e.g. "providers.ecs.cluster: required").
func (p *ECSProvider) Validate(path string) []string {
	var msgs []string
	p.check(func(field, msg string) { msgs = append(msgs, path+"."+field+": "+msg) })
	return msgs
}

// check reports each problem with its field's path relative to the section; the config loader
// places it on that field's line.
func (p *ECSProvider) check(report func(field, msg string)) {
	add := func(field, format string, args ...any) { report(field, fmt.Sprintf(format, args...)) }
	if p.Cluster == "" {
		add("cluster", "required: the ECS cluster that runs the agents")
	}
	if p.TaskDefinition == "" {
		add("taskDefinition", "required: family, family:revision or ARN of the agent's task definition")
	}
	if len(p.Subnets) == 0 {
		add("subnets", "required: at least one subnet for the tasks' network interfaces")
	}
	if p.LaunchType != "" && len(p.CapacityProviderStrategy) > 0 {
		add("launchType", "set launchType or capacityProviderStrategy, not both")
	}
	if p.LaunchType != "" && !ecsLaunchTypes[p.LaunchType] {
		add("launchType", "%q is not one of FARGATE, EC2, EXTERNAL", p.LaunchType)
	}
	for i, cp := range p.CapacityProviderStrategy {
		field := fmt.Sprintf("capacityProviderStrategy[%d]", i)
		if cp.Provider == "" {
			add(field+".provider", "required (e.g. FARGATE_SPOT, FARGATE or an EC2 capacity provider)")
		}
		if cp.Weight < 0 || cp.Weight > 1000 {
			add(field+".weight", "must be between 0 and 1000")
		}
		if cp.Base < 0 || cp.Base > 100000 {
			add(field+".base", "must be between 0 and 100000")
		}
	}
	hasToken := false
	for i, s := range p.Secrets {
		field := fmt.Sprintf("secrets[%d]", i)
		if s.Name == "" {
			add(field+".name", "required")
		}
		if s.ValueFrom == "" {
			add(field+".valueFrom", "required: an SSM parameter or a Secrets Manager secret ARN")
		} else if strings.HasPrefix(s.ValueFrom, "arn:") && !strings.Contains(s.ValueFrom, ":ssm:") &&
			!strings.Contains(s.ValueFrom, ":secretsmanager:") {
			add(field+".valueFrom", "%q is neither an SSM parameter nor a Secrets Manager ARN", s.ValueFrom)
		}
		hasToken = hasToken || s.Name == "AZP_TOKEN"
	}
	if !hasToken {
		add("secrets", "must include AZP_TOKEN: the agent's registration token reaches ECS tasks only as a secret")
	}
	if _, ok := p.Env["AZP_TOKEN"]; ok {
		add("env.AZP_TOKEN", "the registration token must not be a plain variable; declare it in secrets")
	}
	if p.MaxAttempts < 0 {
		add("maxAttempts", "must not be negative")
	}
	checkECSSize(p.CPU, p.Memory, report)
}

// ECS writes a task's size as CPU units ("512") or vCPUs ("1 vCPU"), and memory as MiB ("2048")
// or GB ("2 GB", "2GB").
var (
	ecsCPURE    = regexp.MustCompile(`^([0-9]+|[0-9]+(\.[0-9]+)? ?(?i:vcpu))$`)
	ecsMemoryRE = regexp.MustCompile(`^([0-9]+|[0-9]+(\.[0-9]+)? ?(?i:gb))$`)
)

// checkECSSize checks a task size (cpu, memory; "" keeps the task definition's) in ECS's notation.
func checkECSSize(cpu, memory string, report func(field, msg string)) {
	if cpu != "" && !ecsCPURE.MatchString(cpu) {
		report("cpu", fmt.Sprintf("%q is not an ECS task cpu: CPU units such as \"512\" or vCPUs such as \"1 vCPU\"", cpu))
	}
	if memory != "" && !ecsMemoryRE.MatchString(memory) {
		report("memory", fmt.Sprintf("%q is not an ECS task memory: MiB such as \"2048\" or GB such as \"2 GB\"", memory))
	}
}
