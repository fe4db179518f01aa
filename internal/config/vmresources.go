package config

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// VMResources keeps ADO Environments in step with EC2 Auto Scaling groups: instances register
// themselves as VM resources from their user data (adofleet userdata), and adofleet removes them
// when they terminate (lifecycle events from SQS) or vanish (the reconcile timer).
type VMResources struct {
	// QueueURL is the SQS queue of lifecycle events that serve consumes; without it serve only
	// reconciles on the timer (Lambda is fed by its event source mapping instead).
	QueueURL string `yaml:"queueUrl,omitempty" json:"queueUrl,omitempty"`
	// DeadLetterQueueURL receives poison messages at once; others reach it by the queue's
	// redrive policy after maxReceives.
	DeadLetterQueueURL string `yaml:"deadLetterQueueUrl,omitempty" json:"deadLetterQueueUrl,omitempty"`
	// MaxReceives is the redrive policy's maxReceiveCount (default 5).
	MaxReceives int `yaml:"maxReceives,omitempty" json:"maxReceives,omitempty"`
	// VisibilityTimeout while a message is handled (default: the queue's).
	VisibilityTimeout Duration `yaml:"visibilityTimeout,omitempty" json:"visibilityTimeout,omitempty"`
	// ReconcileInterval between two reconciliations (default 10m).
	ReconcileInterval Duration `yaml:"reconcileInterval,omitempty" json:"reconcileInterval,omitempty"`
	// DryRun logs and reports what would be done and changes nothing.
	DryRun bool `yaml:"dryRun,omitempty" json:"dryRun,omitempty"`
	// RecordTTL keeps finished records so late or duplicated events find them (default 168h).
	RecordTTL Duration `yaml:"recordTTL,omitempty" json:"recordTTL,omitempty"`
	// Region overrides aws.region; the endpoints override each service's (tests, VPC endpoints).
	Region              string `yaml:"region,omitempty" json:"region,omitempty"`
	SQSEndpoint         string `yaml:"sqsEndpoint,omitempty" json:"sqsEndpoint,omitempty"`
	EC2Endpoint         string `yaml:"ec2Endpoint,omitempty" json:"ec2Endpoint,omitempty"`
	AutoScalingEndpoint string `yaml:"autoScalingEndpoint,omitempty" json:"autoScalingEndpoint,omitempty"`
	// Environments are the ADO Environments kept in step, each with its groups.
	Environments []VMEnvironment `yaml:"environments" json:"environments"`
}

// VMEnvironment is one ADO Environment and the Auto Scaling groups whose instances register in it.
type VMEnvironment struct {
	Project           string   `yaml:"project" json:"project"`
	Environment       string   `yaml:"environment" json:"environment"`
	AutoScalingGroups []string `yaml:"autoScalingGroups" json:"autoScalingGroups"`
	// Tags the VM resources register with.
	Tags []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// TokenParameter is the SSM SecureString parameter holding the registration PAT, read by the
	// instance at boot (adofleet userdata).
	TokenParameter string `yaml:"tokenParameter,omitempty" json:"tokenParameter,omitempty"`
	// AgentURL is the agent package the user data downloads (default: DefaultAgentVersion's for
	// the instance's OS and architecture).
	AgentURL string `yaml:"agentUrl,omitempty" json:"agentUrl,omitempty"`
}

// Defaults of the vmResources section.
const (
	DefaultVMMaxReceives       = 5
	DefaultVMReconcileInterval = 10 * time.Minute
	DefaultVMRecordTTL         = 7 * 24 * time.Hour
)

// setDefaults fills the section's defaults; nil (not configured) stays nil.
func (v *VMResources) setDefaults() {
	if v == nil {
		return
	}
	setDefault(&v.MaxReceives, DefaultVMMaxReceives)
	setDefault(&v.ReconcileInterval, Duration(DefaultVMReconcileInterval))
	setDefault(&v.RecordTTL, Duration(DefaultVMRecordTTL))
}

var (
	// sqsQueuePath is /ACCOUNT/NAME of a queue URL: a 12-digit account, 1-80 letters, digits,
	// '-' or '_', and .fifo for FIFO queues.
	sqsQueuePath = regexp.MustCompile(`^/[0-9]{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$`)
	// asgNameRE: Auto Scaling group names are 1-255 characters, no ':' (it would read as an ARN).
	asgNameRE = regexp.MustCompile(`^[^:]{1,255}$`)
	// ssmNameRE: a parameter name (with or without a leading /) or its ARN.
	ssmNameRE = regexp.MustCompile(`^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9_.\-/]+|/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*)$`)
)

// vmResources checks the section; nil means not configured.
func (v validator) vmResources(s *VMResources) {
	if s == nil {
		return
	}
	const at = "vmResources"
	v.sqsURL(at+".queueUrl", s.QueueURL)
	v.sqsURL(at+".deadLetterQueueUrl", s.DeadLetterQueueURL)
	if s.QueueURL != "" && s.QueueURL == s.DeadLetterQueueURL {
		v.errorf(at+".deadLetterQueueUrl", "must be another queue than queueUrl")
	}
	if s.DeadLetterQueueURL != "" && s.QueueURL == "" {
		v.errorf(at+".deadLetterQueueUrl", "set only with queueUrl, the queue it serves")
	}
	if s.MaxReceives < 1 {
		v.errorf(at+".maxReceives", "must be >= 1 (the queue's redrive maxReceiveCount), got %d", s.MaxReceives)
	}
	// SQS bounds a visibility timeout to 12 hours.
	if s.VisibilityTimeout.D() > 12*time.Hour {
		v.errorf(at+".visibilityTimeout", "must be at most 12h (the SQS limit), got %q", s.VisibilityTimeout.String())
	}
	if s.ReconcileInterval != 0 && s.ReconcileInterval.D() < time.Minute {
		v.errorf(at+".reconcileInterval", "must be at least 1m: each reconcile lists every Environment's resources and describes every group's instances, got %q", s.ReconcileInterval.String())
	}
	v.region(at+".region", s.Region)
	v.endpoint(at+".sqsEndpoint", s.SQSEndpoint)
	v.endpoint(at+".ec2Endpoint", s.EC2Endpoint)
	v.endpoint(at+".autoScalingEndpoint", s.AutoScalingEndpoint)
	v.vmEnvironments(at+".environments", s.Environments)
}

// sqsURL checks the shape of a queue URL: https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (any host,
// for VPC endpoints and emulators; http only on loopback). "" means unset.
func (v validator) sqsURL(path, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http"):
		v.errorf(path, "must be an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/adofleet-events")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		v.errorf(path, "must use https (http is allowed only for loopback hosts, for emulators)")
	case !sqsQueuePath.MatchString(u.Path) || u.RawQuery != "" || u.Fragment != "":
		v.errorf(path, "the path must be /ACCOUNT/QUEUE (a 12-digit account id and the queue name), as in https://sqs.eu-west-1.amazonaws.com/123456789012/adofleet-events; got %q", u.Path)
	}
}

// vmEnvironments checks each entry and the rules across entries: one entry per Environment, and a
// group in one Environment only (its instances register in exactly one).
func (v validator) vmEnvironments(path string, envs []VMEnvironment) {
	if len(envs) == 0 {
		v.errorf(path, "at least one environment is required: {project, environment, autoScalingGroups}")
		return
	}
	firstEnv := map[string]int{}      // project/environment, lower-cased as ADO compares them
	firstGroup := map[string]string{} // group -> path of its first listing
	for i, e := range envs {
		at := fmt.Sprintf("%s[%d]", path, i)
		if strings.TrimSpace(e.Project) == "" {
			v.errorf(at+".project", "required: the ADO project that holds the Environment")
		}
		if strings.TrimSpace(e.Environment) == "" {
			v.errorf(at+".environment", "required: the Environment's name in ADO")
		}
		if e.Project != "" && e.Environment != "" {
			key := strings.ToLower(e.Project + "/" + e.Environment)
			if j, dup := firstEnv[key]; dup {
				v.errorf(at+".environment", "duplicate: %s/%s is already %s[%d]; list all its groups there", e.Project, e.Environment, path, j)
			} else {
				firstEnv[key] = i
			}
		}
		if len(e.AutoScalingGroups) == 0 {
			v.errorf(at+".autoScalingGroups", "at least one Auto Scaling group is required: the groups whose instances register in this Environment")
		}
		for j, g := range e.AutoScalingGroups {
			gp := fmt.Sprintf("%s.autoScalingGroups[%d]", at, j)
			if !asgNameRE.MatchString(g) {
				v.errorf(gp, "must be an Auto Scaling group name (1-255 characters, no ':'), got %q", g)
				continue
			}
			if first, dup := firstGroup[g]; dup {
				v.errorf(gp, "group %q is already listed at %s: an instance registers in one Environment only", g, first)
				continue
			}
			firstGroup[g] = gp
		}
		v.vmTags(at+".tags", e.Tags)
		if e.TokenParameter != "" && !ssmNameRE.MatchString(e.TokenParameter) {
			v.errorf(at+".tokenParameter", "must be an SSM parameter name such as /adofleet/environment-pat, or its ARN")
		}
		v.agentURL(at+".agentUrl", e.AgentURL)
	}
}

// vmTags checks resource tags: the agent takes them as one comma-separated list.
func (v validator) vmTags(path string, tags []string) {
	seen := map[string]bool{}
	for i, t := range tags {
		tp := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case strings.TrimSpace(t) == "":
			v.errorf(tp, "must not be empty")
		case strings.Contains(t, ","):
			v.errorf(tp, "must not contain ',': the agent reads its tags as one comma-separated list, got %q", t)
		case seen[strings.ToLower(t)]:
			v.errorf(tp, "duplicate tag %q (ADO tags are case-insensitive)", t)
		}
		seen[strings.ToLower(t)] = true
	}
}

// agentURL checks an agent package URL: https (http on loopback, for tests).
func (v validator) agentURL(path, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		v.errorf(path, "must be an absolute URL without credentials, such as https://download.agent.dev.azure.com/agent/4.255.0/vsts-agent-linux-x64-4.255.0.tar.gz")
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		v.errorf(path, "must use https (http only for loopback hosts)")
	}
}

// vmResourcesDocs are the section's schema and reference entries, merged into the tables.
var vmResourcesDocs = map[string]fieldMeta{
	"Config.vmResources": {doc: "Environment VM resources that follow EC2 Auto Scaling groups (off unless set; see docs/environments.md)."},

	"VMResources.queueUrl":            {doc: "SQS queue of Auto Scaling lifecycle events (EventBridge or hook notifications) that serve consumes. Without it serve only reconciles on the timer; Lambda is fed by its event source mapping."},
	"VMResources.deadLetterQueueUrl":  {doc: "Dead-letter queue: a message that can never be handled is moved there at once (others reach it through the queue's redrive policy). Default: none; poison messages then wait for the redrive policy."},
	"VMResources.maxReceives":         {doc: "Receives of a message before it counts as poison; keep it equal to the queue's redrive maxReceiveCount.", def: DefaultVMMaxReceives, minimum: intp(1)},
	"VMResources.visibilityTimeout":   {doc: "Visibility timeout of a message while it is handled, at most 12h. Default: the queue's."},
	"VMResources.reconcileInterval":   {doc: "Time between two reconciliations (resources of gone instances removed, unregistered instances reported); at least 1m.", def: "10m"},
	"VMResources.dryRun":              {doc: "Log and report what would be done; change nothing in Azure DevOps, AWS or the store.", def: false},
	"VMResources.recordTTL":           {doc: "How long the record of a removed instance is kept, so a late or duplicated event finds it.", def: "168h"},
	"VMResources.region":              {doc: "Region of the queue and the groups. Default: aws.region.", pattern: regionRE.String()},
	"VMResources.sqsEndpoint":         {doc: "SQS endpoint URL, for testing and VPC endpoints. Default: the region's."},
	"VMResources.ec2Endpoint":         {doc: "EC2 endpoint URL, for testing and VPC endpoints. Default: the region's."},
	"VMResources.autoScalingEndpoint": {doc: "Auto Scaling endpoint URL, for testing and VPC endpoints. Default: the region's."},
	"VMResources.environments":        {doc: "The Environments kept in step, each with the Auto Scaling groups whose instances register in it.", required: true, minItems: 1},

	"VMEnvironment.project":           {doc: "ADO project that holds the Environment.", required: true, nonEmpty: true},
	"VMEnvironment.environment":       {doc: "Name of the Environment in ADO; one entry per Environment.", required: true, nonEmpty: true},
	"VMEnvironment.autoScalingGroups": {doc: "Auto Scaling group names whose instances register in this Environment; a group belongs to one Environment only.", required: true, minItems: 1},
	"VMEnvironment.tags":              {doc: "Tags the VM resources register with (no commas; case-insensitive, no duplicates)."},
	"VMEnvironment.tokenParameter":    {doc: "SSM SecureString parameter (name or ARN) holding the registration PAT; the instance reads it at boot (adofleet userdata), so the token is never in the user data.", pattern: ssmNameRE.String()},
	"VMEnvironment.agentUrl":          {doc: "Agent package the user data downloads (.tar.gz for Linux, .zip for Windows) when the image has no agent. Default: the pinned release for the instance's OS and architecture."},
}

var vmResourcesTypeDocs = map[string]string{
	"VMResources":   "Environment VM resources that follow EC2 Auto Scaling groups: instances register from their user data (adofleet userdata); adofleet removes them on termination (SQS lifecycle events) and by a reconcile timer.",
	"VMEnvironment": "One ADO Environment and the Auto Scaling groups whose instances register in it.",
}

func init() {
	maps.Copy(fieldDocs, vmResourcesDocs)
	maps.Copy(typeDocs, vmResourcesTypeDocs)
}
