// Package ecs runs each agent as an Amazon ECS task, on Fargate or on EC2 capacity providers.
//
// One RunTask call per agent. ECS can start up to 10 identical tasks in one RunTask call, but every
// agent needs its own name (AZP_AGENT_NAME, set in the container overrides), its own tags (the
// agent tag lets List match a task to its agent) and its own idempotency token, and none of these
// can differ between the tasks of one call. So a batch of N agents is N RunTask calls with count 1,
// run at most 10 at a time; each call's outcome (a task, an entry in RunTask's `failures` list, or
// an error) is that agent's alone, and a batch that half-succeeds is reported as a
// *provider.PartialError naming exactly the agents that did not start.
//
// Secrets. RunTask's container overrides cannot carry secrets (ContainerOverride has environment,
// not secrets), so the agent's registration token cannot be handed over per launch without
// sending it as a plain value, which ECS would show to anyone who can describe the task. Instead
// the task definition's agent container declares the secrets (AZP_TOKEN from an SSM parameter or a
// Secrets Manager secret, which ECS injects at start-up); Options.Secrets names them, the provider
// checks once (DescribeTaskDefinition, cached) that the container declares each of them with the
// same valueFrom, and it never sends a variable of that name in the overrides: the AZP_TOKEN the
// controller puts in LaunchRequest.Env is dropped.
//
// Retries. The SDK's standard retryer retries throttling (ThrottlingException) and transient
// errors with exponential backoff and jitter; NewClient configures it with MaxAttempts (default
// 5) and MaxBackoff (default 20s). Every call also gets its own timeout (Options.CallTimeout).
package ecs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/provider"
)

var _ provider.Provider = (*Provider)(nil)

// Defaults and limits.
const (
	DefaultCallTimeout = 30 * time.Second
	DefaultMaxAttempts = 5
	DefaultMaxBackoff  = 20 * time.Second
	// TokenEnv is the agent's registration token variable; it only ever reaches a task as a secret.
	TokenEnv = "AZP_TOKEN"
	// AgentNameEnv is set per agent in the container overrides.
	AgentNameEnv = "AZP_AGENT_NAME"

	maxConcurrentRunTask = 10  // RunTask calls in flight per Launch (and StopTask per Terminate)
	maxDescribeTasks     = 100 // DescribeTasks takes at most 100 tasks
	maxStartedBy         = 36  // startedBy is at most 36 characters
	taskDefCacheTTL      = 10 * time.Minute
)

// API is the part of the ECS client the provider uses; *ecs.Client implements it.
type API interface {
	RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

// CapacityProvider is one item of a capacity-provider strategy, e.g. FARGATE_SPOT weight 4 and
// FARGATE weight 1 base 1.
type CapacityProvider struct {
	Provider string
	Weight   int32
	Base     int32
}

// Secret is a container secret the task definition must declare: the environment variable Name
// is filled by ECS from ValueFrom (an SSM parameter ARN/name or a Secrets Manager ARN).
type Secret struct {
	Name      string
	ValueFrom string
}

// Options configure a Provider.
type Options struct {
	Cluster string
	// TaskDefinition is family, family:revision or an ARN. A launch's Template, when set, replaces it.
	TaskDefinition string
	// ContainerName is the agent container, whose environment is overridden.
	ContainerName string
	// LaunchType (FARGATE, EC2, EXTERNAL) or CapacityProviderStrategy, not both; neither uses the
	// cluster's default strategy.
	LaunchType               string
	CapacityProviderStrategy []CapacityProvider
	Subnets                  []string
	SecurityGroups           []string
	// AssignPublicIP gives Fargate tasks a public IP (default false: use a NAT gateway or VPC
	// endpoints to reach ADO and the image registry).
	AssignPublicIP  bool
	PlatformVersion string
	// CPU and Memory override the task size ("512", "1 vCPU", "2048"); empty keeps the definition's.
	// A launch's Resources (the pool's) win over them, field by field.
	CPU, Memory string
	// Env is plain environment added to every agent (values are never logged).
	Env map[string]string
	// Secrets are declared by the task definition; TokenEnv must be one of them.
	Secrets []Secret
	// Group is the task group (default: ECS's "family:<family>").
	Group string
	// Controller identifies this controller in tags and startedBy. Required.
	Controller string
	Logger     *slog.Logger
	// Registerer receives the package's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Clock is the time source (a seam for tests). Default time.Now.
	Clock func() time.Time
	// CallTimeout bounds every ECS call, retries included. Default 30s.
	CallTimeout time.Duration
}

// Provider runs agents as ECS tasks. It is safe for concurrent use.
type Provider struct {
	api       API
	opts      Options
	startedBy string
	log       *slog.Logger
	now       func() time.Time
	metrics   *metrics

	mu       sync.Mutex
	verified map[string]time.Time // task definition -> when its secrets were checked
	reported map[string]string    // stopped task ARN -> pool, once logged and counted
}

var startedByChars = regexp.MustCompile(`^[A-Za-z0-9_/-]+$`)

// New validates opts and returns a Provider. It makes no call.
func New(api API, opts Options) (*Provider, error) {
	if api == nil {
		return nil, errors.New("ecs provider: nil ECS client")
	}
	var missing []string
	for name, v := range map[string]string{"Cluster": opts.Cluster, "TaskDefinition": opts.TaskDefinition,
		"ContainerName": opts.ContainerName, "Controller": opts.Controller} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("ecs provider: options %v are required", missing)
	}
	if opts.LaunchType != "" && len(opts.CapacityProviderStrategy) > 0 {
		return nil, errors.New("ecs provider: set LaunchType or CapacityProviderStrategy, not both")
	}
	hasToken := false
	for _, s := range opts.Secrets {
		if s.Name == "" || s.ValueFrom == "" {
			return nil, errors.New("ecs provider: every secret needs a Name and a ValueFrom")
		}
		hasToken = hasToken || s.Name == TokenEnv
	}
	if !hasToken {
		return nil, fmt.Errorf("ecs provider: options.Secrets must include %s (the agent's registration token is passed only as a secret)", TokenEnv)
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	p := &Provider{
		api:       api,
		opts:      opts,
		startedBy: startedByFor(opts.Controller),
		log:       opts.Logger,
		now:       opts.Clock,
		metrics:   newMetrics(opts.Registerer),
		verified:  map[string]time.Time{},
		reported:  map[string]string{},
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "provider.ecs", "cluster", opts.Cluster)
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// ClientOptions tune NewClient's retryer.
type ClientOptions struct {
	// MaxAttempts per call, the first included. Default 5.
	MaxAttempts int
	// MaxBackoff caps the delay between attempts. Default 20s.
	MaxBackoff time.Duration
	// BaseEndpoint overrides the service endpoint (tests, VPC endpoints).
	BaseEndpoint string
}

// NewClient returns an ECS client whose standard retryer retries throttling and transient errors
// up to MaxAttempts times with capped exponential backoff.
func NewClient(cfg aws.Config, co ClientOptions) *ecs.Client {
	if co.MaxAttempts <= 0 {
		co.MaxAttempts = DefaultMaxAttempts
	}
	if co.MaxBackoff <= 0 {
		co.MaxBackoff = DefaultMaxBackoff
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = co.MaxAttempts
			so.MaxBackoff = co.MaxBackoff
		})
		if co.BaseEndpoint != "" {
			o.BaseEndpoint = aws.String(co.BaseEndpoint)
		}
	})
}

// StartedBy returns the startedBy value of this provider's tasks.
func (p *Provider) StartedBy() string { return p.startedBy }

// startedByFor derives a startedBy (at most 36 of [A-Za-z0-9_/-]) from the controller ID; a longer
// or unusual ID is replaced by a hash of it, which is as unique.
func startedByFor(controller string) string {
	s := "adofleet/" + controller
	if len(s) <= maxStartedBy && startedByChars.MatchString(s) {
		return s
	}
	sum := sha256.Sum256([]byte(controller))
	return "adofleet/" + hex.EncodeToString(sum[:])[:maxStartedBy-len("adofleet/")]
}

// call bounds one ECS call (retries included) by Options.CallTimeout.
func (p *Provider) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.opts.CallTimeout)
}
