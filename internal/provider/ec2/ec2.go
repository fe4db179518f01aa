// Package ec2 runs each agent on its own EC2 instance, started from a launch template.
//
// Instances mode (the default) calls RunInstances once per agent rather than CreateFleet: every
// agent needs its own user data (its AZP_AGENT_NAME), and CreateFleet can override neither user
// data nor tags per instance without a launch template version per agent. Per-agent RunInstances
// also gives each agent its own ClientToken and its own fallback path: the provider walks the
// overrides (instance types x subnets), spot first when configured, then on-demand, moving on after
// a capacity or spot-price error. Agents of a batch are launched in parallel (Options.Concurrency).
//
// Idempotency: before launching, the provider looks up instances tagged with the request's token;
// an agent that already has one is returned as is. Each RunInstances attempt carries a ClientToken
// derived from the launch token, the agent name and the attempt (market, type, subnet), so a retry
// after a lost response returns the instance EC2 already started instead of a second one.
//
// Instances shut themselves down after their one job (the user data ends in `shutdown -h now`)
// and are launched with instance-initiated shutdown behaviour "terminate", so nothing lingers.
// The user data carries the agent's environment; set TokenParameter to keep the registration token
// out of it (the instance then reads it from SSM Parameter Store with its instance role).
//
// ASG mode (see asg.go) grows an Auto Scaling group instead of calling RunInstances.
package ec2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/adofleet/adofleet/internal/provider"
)

var _ provider.Provider = (*Provider)(nil)

// Modes.
const (
	ModeInstances = "instances"
	ModeASG       = "asg"
)

// DefaultConcurrency bounds the RunInstances calls of one batch in flight at once.
const DefaultConcurrency = 8

// EC2API is the part of the EC2 client the provider uses; *ec2.Client implements it.
type EC2API interface {
	RunInstances(context.Context, *awsec2.RunInstancesInput, ...func(*awsec2.Options)) (*awsec2.RunInstancesOutput, error)
	DescribeInstances(context.Context, *awsec2.DescribeInstancesInput, ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error)
	TerminateInstances(context.Context, *awsec2.TerminateInstancesInput, ...func(*awsec2.Options)) (*awsec2.TerminateInstancesOutput, error)
	CreateTags(context.Context, *awsec2.CreateTagsInput, ...func(*awsec2.Options)) (*awsec2.CreateTagsOutput, error)
}

// AutoScalingAPI is the part of the Auto Scaling client ASG mode uses; *autoscaling.Client
// implements it.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput, ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error)
	SetInstanceProtection(context.Context, *autoscaling.SetInstanceProtectionInput, ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error)
	TerminateInstanceInAutoScalingGroup(context.Context, *autoscaling.TerminateInstanceInAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error)
}

// LaunchTemplate names the template instances start from: ID or Name, and a version
// ("$Latest", "$Default" or a number; default "$Default").
type LaunchTemplate struct {
	ID      string
	Name    string
	Version string
}

// Options configure a Provider.
type Options struct {
	EC2         EC2API         // required
	AutoScaling AutoScalingAPI // required in ASG mode

	LaunchTemplate LaunchTemplate // required in instances mode
	// InstanceTypes override the template's type, tried in order (empty: the template's).
	InstanceTypes []string
	// Subnets override the template's subnet, tried in order for each type (empty: the template's).
	Subnets []string
	// Spot asks for spot instances first, falling back to on-demand when EC2 has no spot capacity
	// or the spot price is too low.
	Spot bool

	// Mode is "instances" (default) or "asg".
	Mode string
	// AutoScalingGroup is the group ASG mode scales.
	AutoScalingGroup string

	// UserData is a text/template for the instance's user data (see UserDataData); default
	// DefaultUserData. It is base64-encoded by the provider.
	UserData string
	// TokenParameter, when set, is an SSM SecureString parameter holding the agent registration
	// token: AZP_TOKEN is then left out of the user data and read from SSM on the instance.
	TokenParameter string
	// AgentPackageURL is downloaded when the image has no agent in /opt/azp-agent.
	AgentPackageURL string

	// Controller is the controller tag set on instances whose request does not carry one.
	Controller string
	Logger     *slog.Logger
	// Clock returns the current time (a seam for tests). Default time.Now.
	Clock func() time.Time
	// Concurrency bounds parallel RunInstances calls per Launch. Default 8.
	Concurrency int
}

// Provider runs agents on EC2 instances. It is safe for concurrent use.
type Provider struct {
	opts  Options
	udTpl *template.Template
	log   *slog.Logger
	now   func() time.Time
	asg   *asgState // nil in instances mode
}

// New validates opts and returns a Provider. It makes no AWS call.
func New(opts Options) (*Provider, error) {
	if opts.EC2 == nil {
		return nil, errors.New("ec2 provider: options.EC2 client is required")
	}
	switch opts.Mode {
	case "", ModeInstances:
		opts.Mode = ModeInstances
		if (opts.LaunchTemplate.ID == "") == (opts.LaunchTemplate.Name == "") {
			return nil, errors.New("ec2 provider: set exactly one of launchTemplate.id and launchTemplate.name")
		}
	case ModeASG:
		if opts.AutoScaling == nil || opts.AutoScalingGroup == "" {
			return nil, errors.New("ec2 provider: asg mode needs options.AutoScaling and options.AutoScalingGroup")
		}
	default:
		return nil, fmt.Errorf("ec2 provider: unknown mode %q (want %q or %q)", opts.Mode, ModeInstances, ModeASG)
	}
	if opts.LaunchTemplate.Version == "" {
		opts.LaunchTemplate.Version = "$Default"
	}
	if opts.UserData == "" {
		opts.UserData = DefaultUserData
	}
	tpl, err := parseUserData(opts.UserData)
	if err != nil {
		return nil, fmt.Errorf("ec2 provider: user data template: %w", err)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	p := &Provider{opts: opts, udTpl: tpl, log: opts.Logger, now: opts.Clock}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "provider.ec2", "mode", opts.Mode)
	if p.now == nil {
		p.now = time.Now
	}
	if opts.Mode == ModeASG {
		p.asg = &asgState{pending: map[string]*pendingAgent{}}
	}
	return p, nil
}
