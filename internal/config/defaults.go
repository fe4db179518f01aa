package config

import "time"

// Defaults applied by SetDefaults (and documented in docs/config.md).
const (
	DefaultControllerID        = "adofleet"
	DefaultResync              = 30 * time.Second
	DefaultMaxConcurrentCycles = 16
	DefaultLogLevel            = "info"
	DefaultOrgTimeout          = 30 * time.Second
	DefaultListen              = "127.0.0.1:8080"
	DefaultSQLitePath          = "./adofleet.db"
	DefaultIdleTimeout         = 5 * time.Minute
	DefaultRegistrationTimeout = 10 * time.Minute
	DefaultOneJobPerAgent      = true
	DefaultSecretTTL           = 5 * time.Minute
	DefaultECSContainerName    = "agent"
	DefaultECSCallTimeout      = 30 * time.Second
	DefaultECSMaxAttempts      = 5
	DefaultEC2Mode             = "instances"
	DefaultEC2Concurrency      = 8
	DefaultACICPU              = 1.0
	DefaultACIMemoryGB         = 2.0
	DefaultACICallTimeout      = 30 * time.Second
	DefaultCloudWatchNamespace = "adofleet"
	DefaultCloudWatchInterval  = time.Minute
	DefaultChecksSecretHeader  = "X-Adofleet-Secret"
	DefaultChecksTimeout       = 10 * time.Minute
	DefaultChecksMaxBodyBytes  = 64 << 10
)

// ListenOff as web.listen disables the dashboard, /metrics and health endpoints.
const ListenOff = "off"

// Enabled reports whether the web endpoints are served.
func (w Web) Enabled() bool { return w.Listen != ListenOff }

// SetDefaults fills every unset field that has a default. Parse calls it; call it on a Config built
// in code before Validate.
func (c *Config) SetDefaults() {
	setDefault(&c.Controller.ID, DefaultControllerID)
	setDefault(&c.Controller.Resync, Duration(DefaultResync))
	setDefault(&c.Controller.MaxConcurrentCycles, DefaultMaxConcurrentCycles)
	setDefault(&c.Controller.LogLevel, DefaultLogLevel)
	c.Controller.LeaderElection.setDefaults() // leader.go
	setDefault(&c.Organization.Timeout, Duration(DefaultOrgTimeout))
	setDefault(&c.Organization.SecretTTL, Duration(DefaultSecretTTL))
	setDefault(&c.Web.Listen, DefaultListen)
	c.Store.setDefaults() // store.go
	if e := c.Providers.ECS; e != nil {
		setDefault(&e.ContainerName, DefaultECSContainerName)
		setDefault(&e.CallTimeout, Duration(DefaultECSCallTimeout))
		setDefault(&e.MaxAttempts, DefaultECSMaxAttempts)
	}
	if e := c.Providers.EC2; e != nil {
		setDefault(&e.Mode, DefaultEC2Mode)
		setDefault(&e.Concurrency, DefaultEC2Concurrency)
	}
	if a := c.Providers.ACI; a != nil {
		setDefault(&a.CPU, DefaultACICPU)
		setDefault(&a.MemoryGB, DefaultACIMemoryGB)
		setDefault(&a.CallTimeout, Duration(DefaultACICallTimeout))
	}
	setDefault(&c.CloudWatch.Namespace, DefaultCloudWatchNamespace)
	setDefault(&c.CloudWatch.Interval, Duration(DefaultCloudWatchInterval))
	setDefault(&c.Checks.SecretHeader, DefaultChecksSecretHeader)
	setDefault(&c.Checks.Timeout, Duration(DefaultChecksTimeout))
	setDefault(&c.Checks.MaxBodyBytes, DefaultChecksMaxBodyBytes)
	c.VMResources.setDefaults()
	c.Notify.setDefaults()
	c.Hooks.setDefaults()
	c.Providers.Kubernetes.setDefaults() // kubernetes.go
	for i := range c.Pools {
		p := &c.Pools[i]
		setDefault(&p.IdleTimeout, Duration(DefaultIdleTimeout))
		setDefault(&p.RegistrationTimeout, Duration(DefaultRegistrationTimeout))
		if p.OneJobPerAgent == nil {
			v := DefaultOneJobPerAgent
			p.OneJobPerAgent = &v
		}
	}
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
