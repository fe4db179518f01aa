package config

import (
	"fmt"
	"time"
)

// Config is the whole adofleet.yaml. Field names are the YAML keys (lowerCamelCase).
type Config struct {
	Organization Organization `yaml:"organization" json:"organization"`
	Controller   Controller   `yaml:"controller" json:"controller"`
	Store        Store        `yaml:"store" json:"store"`
	Web          Web          `yaml:"web" json:"web"`
	Providers    Providers    `yaml:"providers" json:"providers"`
	Pools        []Pool       `yaml:"pools" json:"pools"`
	AWS          AWS          `yaml:"aws,omitempty" json:"aws,omitempty"`
	CloudWatch   CloudWatch   `yaml:"cloudwatch,omitempty" json:"cloudwatch,omitempty"`
	Checks       Checks       `yaml:"checks,omitempty" json:"checks,omitempty"`
	VMResources  *VMResources `yaml:"vmResources,omitempty" json:"vmResources,omitempty"`
	Notify       *Notify      `yaml:"notify,omitempty" json:"notify,omitempty"`
	Hooks        *Hooks       `yaml:"hooks,omitempty" json:"hooks,omitempty"`
}

// Organization is the ADO organization and how to authenticate to it.
type Organization struct {
	// URL of the organization, e.g. https://dev.azure.com/contoso.
	URL string `yaml:"url" json:"url"`
	// PAT is a secret reference (env:NAME, file:PATH) to a personal access token (basic auth).
	PAT string `yaml:"pat,omitempty" json:"pat,omitempty"`
	// BearerToken is a secret reference to an OAuth/Entra bearer token; exclusive with PAT.
	BearerToken string `yaml:"bearerToken,omitempty" json:"bearerToken,omitempty"`
	// AgentToken is a secret reference to the token handed to agents to register (default: PAT,
	// else BearerToken; see AgentTokenRef).
	AgentToken string `yaml:"agentToken,omitempty" json:"agentToken,omitempty"`
	// Timeout bounds each ADO call (default 30s).
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// SecretTTL is how long a resolved secret is used before it is resolved again, so a rotated
	// token is picked up (default 5m).
	SecretTTL Duration `yaml:"secretTTL,omitempty" json:"secretTTL,omitempty"`
}

// Controller holds controller-wide settings.
type Controller struct {
	// ID names this controller in instance tags (adofleet:controller); default "adofleet".
	ID string `yaml:"id,omitempty" json:"id,omitempty"`
	// Resync is the reconcile timer (default 30s); events wake a pool sooner.
	Resync Duration `yaml:"resync,omitempty" json:"resync,omitempty"`
	// WakeInterval is the least time between the starts of a pool's event-driven cycles (default
	// 2s, the controller's): a burst of events within it coalesces into one cycle at its end.
	WakeInterval Duration `yaml:"wakeInterval,omitempty" json:"wakeInterval,omitempty"`
	// MaxConcurrentCycles bounds the pools reconciled at once (default 16).
	MaxConcurrentCycles int `yaml:"maxConcurrentCycles,omitempty" json:"maxConcurrentCycles,omitempty"`
	// LogLevel: debug, info (default), warn, error.
	LogLevel string `yaml:"logLevel,omitempty" json:"logLevel,omitempty"`
	// LeaderElection lets several serve replicas share the work with one leader (leader.go).
	LeaderElection *LeaderElection `yaml:"leaderElection,omitempty" json:"leaderElection,omitempty"`
}

// Web is the dashboard, /metrics and health endpoints.
type Web struct {
	// Listen address (default 127.0.0.1:8080); "" keeps the default, "off" disables it.
	Listen string `yaml:"listen,omitempty" json:"listen,omitempty"`
	// Currency labels the dashboard's cost estimates (default USD); see Pool.CostPerHour.
	Currency string `yaml:"currency,omitempty" json:"currency,omitempty"`
	// AllowFrom, TrustedProxies, Username, Password and BearerToken guard the listener: see
	// security.go.
	AllowFrom      []string `yaml:"allowFrom,omitempty" json:"allowFrom,omitempty"`
	TrustedProxies []string `yaml:"trustedProxies,omitempty" json:"trustedProxies,omitempty"`
	Username       string   `yaml:"username,omitempty" json:"username,omitempty"`
	Password       string   `yaml:"password,omitempty" json:"password,omitempty"`
	BearerToken    string   `yaml:"bearerToken,omitempty" json:"bearerToken,omitempty"`
}

// Providers configures each provider that pools can use.
type Providers struct {
	Local *LocalProvider `yaml:"local,omitempty" json:"local,omitempty"`
	ECS   *ECSProvider   `yaml:"ecs,omitempty" json:"ecs,omitempty"`
	EC2   *EC2Provider   `yaml:"ec2,omitempty" json:"ec2,omitempty"`
	ACI   *ACIProvider   `yaml:"aci,omitempty" json:"aci,omitempty"`
	// Kubernetes: see kubernetes.go.
	Kubernetes *KubernetesProvider `yaml:"kubernetes,omitempty" json:"kubernetes,omitempty"`
}

// AWS holds settings shared by every AWS part (the ecs and ec2 providers, CloudWatch, ssm: and
// secretsmanager: secret references). Credentials come from the AWS SDK's usual chain
// (environment, shared files, the task or instance role), never from this file.
type AWS struct {
	// Region used by every AWS part that sets none (default: the SDK's lookup, AWS_REGION...).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
}

// CloudWatch optionally publishes per-pool gauges (queue depth, busy, idle and starting agents).
type CloudWatch struct {
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Namespace of the metrics (default "adofleet").
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// Interval between two publications (default 1m).
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Region overrides aws.region.
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Endpoint overrides the service endpoint (for testing and VPC endpoints).
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
}

// Checks is the Approvals-and-Checks "Invoke REST API" endpoint (POST /v1/checks/{pool}), served
// on web.listen. When enabled, at least one auth method is required.
type Checks struct {
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Username and Password are the Generic service connection's basic credentials; Password is
	// a secret reference.
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password string `yaml:"password,omitempty" json:"password,omitempty"`
	// SharedSecret is a secret reference to a value the check sends in SecretHeader.
	SharedSecret string `yaml:"sharedSecret,omitempty" json:"sharedSecret,omitempty"`
	// SecretHeader carries the shared secret (default X-Adofleet-Secret).
	SecretHeader string `yaml:"secretHeader,omitempty" json:"secretHeader,omitempty"`
	// Timeout: a check with no agent by then is failed (default 10m); keep it below the check's
	// own timeout in ADO.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// MaxBodyBytes bounds a call's body (default 65536).
	MaxBodyBytes int `yaml:"maxBodyBytes,omitempty" json:"maxBodyBytes,omitempty"`
	// AllowFrom replaces web.allowFrom for this endpoint (security.go).
	AllowFrom []string `yaml:"allowFrom,omitempty" json:"allowFrom,omitempty"`
}

// LocalProvider runs each agent as a local process.
type LocalProvider struct {
	// Command and arguments run for each agent; the agent's settings arrive as environment
	// variables (AZP_URL, AZP_POOL, AZP_AGENT_NAME, AZP_TOKEN, ADOFLEET_*).
	Command []string `yaml:"command" json:"command"`
	// WorkDir is the parent of each agent's working directory (default: a temp dir).
	WorkDir string `yaml:"workDir,omitempty" json:"workDir,omitempty"`
	// Env adds environment variables to every agent.
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
}

// Pool is one ADO agent pool adofleet scales.
type Pool struct {
	// Name of the agent pool in ADO.
	Name string `yaml:"name" json:"name"`
	// Provider that runs the pool's agents: "local", "ecs", "ec2" or "aci".
	Provider string `yaml:"provider" json:"provider"`
	// Template is provider-specific (e.g. a task definition); optional.
	Template string `yaml:"template,omitempty" json:"template,omitempty"`
	// Min instances are kept running even with no work (default 0).
	Min int `yaml:"min" json:"min"`
	// Max is the licence cap on parallel jobs: live plus starting instances never exceed it.
	Max int `yaml:"max" json:"max"`
	// Standby idle, ready agents are kept on top of the demand (default 0).
	Standby int `yaml:"standby,omitempty" json:"standby,omitempty"`
	// MaxLaunchPerCycle bounds the launches of one reconcile cycle (default 0: no bound but Max).
	MaxLaunchPerCycle int `yaml:"maxLaunchPerCycle,omitempty" json:"maxLaunchPerCycle,omitempty"`
	// IdleTimeout: idle agents above min/standby are drained after this (default 5m).
	IdleTimeout Duration `yaml:"idleTimeout,omitempty" json:"idleTimeout,omitempty"`
	// RegistrationTimeout: an instance whose agent is not online by then is terminated (default 10m).
	RegistrationTimeout Duration `yaml:"registrationTimeout,omitempty" json:"registrationTimeout,omitempty"`
	// OneJobPerAgent: agents run with --once (default true).
	OneJobPerAgent *bool `yaml:"oneJobPerAgent,omitempty" json:"oneJobPerAgent,omitempty"`
	// Capabilities the pool's agents offer (user capabilities); jobs whose demands they do not
	// satisfy are not launched for, and the placeholder agent is registered with them.
	Capabilities map[string]string `yaml:"capabilities,omitempty" json:"capabilities,omitempty"`
	// Env adds environment variables to this pool's agents.
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	// Resources size each of the pool's instances, over the provider's defaults (ecs and aci only).
	Resources PoolResources `yaml:"resources,omitempty" json:"resources,omitempty"`
	// CostPerHour is what one of the pool's agents costs an hour, for the dashboard's estimate
	// (agent-hours times this); 0 shows no cost.
	CostPerHour float64 `yaml:"costPerHour,omitempty" json:"costPerHour,omitempty"`
}

// PoolResources size each instance of a pool, in the provider's notation. Only the ecs provider
// (the task's cpu and memory, in place of providers.ecs.cpu and memory) and the aci provider
// (CPU cores and GB, in place of providers.aci.cpu and memoryGB) use them.
type PoolResources struct {
	CPU    string `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	Memory string `yaml:"memory,omitempty" json:"memory,omitempty"`
}

// IsZero reports whether no resource is set (and lets YAML omit the section).
func (r PoolResources) IsZero() bool { return r == PoolResources{} }

// Duration is a time.Duration written as a Go duration string ("30s", "5m").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration as Go does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the Go duration string, so JSON and YAML output reads "30s", not nanoseconds.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string ("30s", "5m", "1h30m").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a Go duration such as \"30s\", \"5m\" or \"1h30m\"", b)
	}
	*d = Duration(v)
	return nil
}

// AgentTokenRef is the secret reference agents register with: AgentToken, else PAT, else
// BearerToken.
func (o Organization) AgentTokenRef() string {
	switch {
	case o.AgentToken != "":
		return o.AgentToken
	case o.PAT != "":
		return o.PAT
	default:
		return o.BearerToken
	}
}

// OneJob reports whether the pool's agents run one job each (OneJobPerAgent, default true).
func (p Pool) OneJob() bool { return p.OneJobPerAgent == nil || *p.OneJobPerAgent }
