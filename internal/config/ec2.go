package config

import (
	"fmt"
	"regexp"
)

// EC2Provider runs each agent on its own EC2 instance from a launch template, or grows an Auto
// Scaling group. It mirrors ec2.Options; cmd/adofleet maps one to the other.
type EC2Provider struct {
	// Region of the instances (default: aws.region, else the AWS SDK's lookup, AWS_REGION...).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// LaunchTemplate the instances start from (instances mode).
	LaunchTemplate EC2LaunchTemplate `yaml:"launchTemplate,omitempty" json:"launchTemplate,omitempty"`
	// InstanceTypes override the template's type, tried in order on capacity errors.
	InstanceTypes []string `yaml:"instanceTypes,omitempty" json:"instanceTypes,omitempty"`
	// Subnets override the template's subnet, tried in order for each type.
	Subnets []string `yaml:"subnets,omitempty" json:"subnets,omitempty"`
	// Spot asks for spot instances first, falling back to on-demand.
	Spot bool `yaml:"spot,omitempty" json:"spot,omitempty"`
	// Mode is "instances" (default: RunInstances per agent) or "asg".
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
	// AutoScalingGroup is the group asg mode scales.
	AutoScalingGroup string `yaml:"autoScalingGroup,omitempty" json:"autoScalingGroup,omitempty"`
	// UserData is a Go text/template of the instance's user data (default: a bash script that
	// registers the agent, runs one job and powers off).
	UserData string `yaml:"userData,omitempty" json:"userData,omitempty"`
	// TokenParameter is an SSM SecureString parameter holding the agent registration token, read
	// on the instance, so that the token is not written into user data.
	TokenParameter string `yaml:"tokenParameter,omitempty" json:"tokenParameter,omitempty"`
	// AgentPackageURL is downloaded when the image has no agent in /opt/azp-agent.
	AgentPackageURL string `yaml:"agentPackageUrl,omitempty" json:"agentPackageUrl,omitempty"`
	// Concurrency bounds parallel RunInstances calls per launch (default 8).
	Concurrency int `yaml:"concurrency,omitempty" json:"concurrency,omitempty"`
	// Endpoint and AutoScalingEndpoint override the EC2 and Auto Scaling endpoints (for testing
	// and VPC endpoints).
	Endpoint            string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	AutoScalingEndpoint string `yaml:"autoScalingEndpoint,omitempty" json:"autoScalingEndpoint,omitempty"`
}

// EC2LaunchTemplate names a launch template by ID or name, and its version ("$Latest",
// "$Default" or a number; default "$Default").
type EC2LaunchTemplate struct {
	ID      string `yaml:"id,omitempty" json:"id,omitempty"`
	Name    string `yaml:"name,omitempty" json:"name,omitempty"`
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
}

var (
	ec2TemplateVersion = regexp.MustCompile(`^(\$Latest|\$Default|[1-9][0-9]*)$`)
	ec2SubnetID        = regexp.MustCompile(`^subnet-[0-9a-f]+$`)
	ec2TemplateID      = regexp.MustCompile(`^lt-[0-9a-f]+$`)
)

// Validate returns one message per problem, each prefixed with the field's path under path
// (e.g. "providers.ec2.launchTemplate: set id or name").
func (p *EC2Provider) Validate(path string) []string {
	var msgs []string
	p.check(func(field, msg string) { msgs = append(msgs, path+"."+field+": "+msg) })
	return msgs
}

// check reports each problem with its field's path relative to the section; the config loader
// places it on that field's line.
func (p *EC2Provider) check(report func(field, msg string)) {
	add := func(field, format string, args ...any) { report(field, fmt.Sprintf(format, args...)) }
	lt := p.LaunchTemplate
	switch p.Mode {
	case "", "instances":
		if lt.ID == "" && lt.Name == "" {
			add("launchTemplate", "required: set id or name of the launch template the agents' instances start from")
		}
	case "asg":
		if p.AutoScalingGroup == "" {
			add("autoScalingGroup", "required in asg mode: the Auto Scaling group to scale")
		}
		if lt != (EC2LaunchTemplate{}) || len(p.InstanceTypes) > 0 || len(p.Subnets) > 0 || p.Spot {
			add("mode", "in asg mode the group's own launch template, types, subnets and spot settings apply; remove launchTemplate, instanceTypes, subnets and spot")
		}
	default:
		add("mode", "%q is not one of instances, asg", p.Mode)
	}
	if lt.ID != "" && lt.Name != "" {
		add("launchTemplate", "set id or name, not both")
	}
	if lt.ID != "" && !ec2TemplateID.MatchString(lt.ID) {
		add("launchTemplate.id", "%q is not a launch template ID (lt-...)", lt.ID)
	}
	if lt.Version != "" && !ec2TemplateVersion.MatchString(lt.Version) {
		add("launchTemplate.version", "%q is not $Latest, $Default or a version number", lt.Version)
	}
	for i, s := range p.Subnets {
		if !ec2SubnetID.MatchString(s) {
			add(fmt.Sprintf("subnets[%d]", i), "%q is not a subnet ID (subnet-...)", s)
		}
	}
	for i, t := range p.InstanceTypes {
		if t == "" {
			add(fmt.Sprintf("instanceTypes[%d]", i), "must not be empty")
		}
	}
	if p.Concurrency < 0 {
		add("concurrency", "must not be negative")
	}
}
