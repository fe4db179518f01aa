package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// Defaults applied by New.
const (
	DefaultResync          = 30 * time.Second
	DefaultWakeInterval    = 2 * time.Second
	DefaultCapacityBackoff = 2 * time.Minute
	DefaultGoneRetention   = time.Hour
	DefaultCycleTimeout    = 5 * time.Minute
	DefaultControllerID    = "adofleet"
	// DefaultMaxConcurrentCycles is how many pools are reconciled at once by default: enough to
	// keep a fleet's cycles short, few enough that a controller started with hundreds of pools
	// does not send them all to ADO and the providers in the same instant.
	DefaultMaxConcurrentCycles = 16
)

// ProviderResolver returns the provider a pool's config names. *provider.Registry satisfies it.
type ProviderResolver interface {
	Get(name string) (provider.Provider, error)
}

// ProviderMap is a ProviderResolver over a plain map, for tests and small setups.
type ProviderMap map[string]provider.Provider

// Get returns the provider named name.
func (m ProviderMap) Get(name string) (provider.Provider, error) {
	p, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", provider.ErrUnknownProvider, name)
	}
	return p, nil
}

var _ ProviderResolver = (*provider.Registry)(nil)

// PoolConfig is one ADO pool the controller scales.
type PoolConfig struct {
	Name     string // agent pool name in ADO
	Provider string // provider name, resolved through Options.Providers
	Template string // provider-specific template ("" = the provider's default)
	Policy   scaler.Policy
	// Env is extra environment for the pool's agents. Values may be secrets: never logged.
	Env map[string]string
	// Resources size the pool's instances (e.g. ECS task cpu and memory); zero fields keep the
	// provider's defaults. Providers that do not size instances ignore them.
	Resources provider.Resources
}

// Options configures a Controller.
type Options struct {
	// ControllerID is set on every instance in the adofleet:controller tag (default "adofleet").
	ControllerID string
	// OrgURL is handed to agents as AZP_URL.
	OrgURL    string
	ADO       ADO
	Providers ProviderResolver
	Store     store.Store
	Pools     []PoolConfig
	// AgentToken returns the registration token handed to agents as AZP_TOKEN. Never logged.
	AgentToken func() string
	// Resync is the period of each pool's loop when nothing wakes it (default 30s).
	Resync time.Duration
	// WakeInterval is the least time between the starts of a pool's cycles that Wake triggers
	// (default 2s; negative: none): a wake-up after a quiet spell runs at once, the wake-ups of a
	// burst within the interval coalesce into one cycle at its end (NextWakeCycle).
	WakeInterval time.Duration
	// CapacityBackoff is how long a pool stops launching after the provider reported
	// insufficient capacity (default 2m).
	CapacityBackoff time.Duration
	// GoneRetention is how long records in StateGone are kept for history (default 1h).
	GoneRetention time.Duration
	// CycleTimeout bounds one reconcile cycle, every ADO, provider and store call in it
	// (default 5m): a call that hangs fails its cycle instead of stalling the pool's loop.
	CycleTimeout time.Duration
	// MaxConcurrentCycles bounds the cycles that run at once across all pools, whether Run's
	// loops, ReconcileOnce or ReconcileAll start them (default DefaultMaxConcurrentCycles). A
	// cycle waits for a slot after taking its pool's lock, so a pool never holds two slots.
	MaxConcurrentCycles int
	Now                 func() time.Time
	Logger              *slog.Logger
	// Registerer receives the controller's metrics; nil keeps them unexported.
	Registerer prometheus.Registerer
	// Demands, if set, returns the pending check requests per pool (checks.PendingByPool): jobs
	// ADO queues only once an agent is there. Called once per cycle in observe; an error fails the
	// cycle like any observe error.
	Demands func(ctx context.Context) (map[string]int, error)
	// Reserved, if set, names a pool's agents that released a check and wait for its job to be
	// queued (checks.Callbacker.Reserved): they are not drained meanwhile. It must not block.
	Reserved func(pool string) map[string]bool
	// OnLaunchFailed, if set, is told once per launch batch in which agents failed to start, with
	// the first agent's cause (errors.Is works: provider.ErrInvalidRequest means no retry can
	// succeed). The checks wiring uses it to fail waiting checks at once instead of at their
	// timeout. It must not block.
	OnLaunchFailed func(pool string, err error)
	// NameFunc generates a new agent name for a pool (default "<pool-slug>-<8 random hex>").
	NameFunc func(pool string) string
	// Events, if set, receives the pool's alerts: agent.start_failed, orphan.terminated,
	// job.waited_long and pool.at_max. Publish is called from the cycle with a short timeout (it
	// writes to an outbox); a failure is logged and counted, never fails the cycle.
	Events notify.Publisher
	// JobWaitThreshold: a queued job older than this is reported once (default 10m; negative:
	// never).
	JobWaitThreshold time.Duration
	// PoolAtMaxThreshold: a pool at its max with jobs queued for longer than this is reported
	// once per episode (default 15m; negative: never).
	PoolAtMaxThreshold time.Duration
}

func (o *Options) setDefaults() {
	if o.ControllerID == "" {
		o.ControllerID = DefaultControllerID
	}
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.WakeInterval == 0 {
		o.WakeInterval = DefaultWakeInterval
	}
	if o.CapacityBackoff <= 0 {
		o.CapacityBackoff = DefaultCapacityBackoff
	}
	if o.GoneRetention <= 0 {
		o.GoneRetention = DefaultGoneRetention
	}
	if o.CycleTimeout <= 0 {
		o.CycleTimeout = DefaultCycleTimeout
	}
	if o.MaxConcurrentCycles <= 0 {
		o.MaxConcurrentCycles = DefaultMaxConcurrentCycles
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NameFunc == nil {
		o.NameFunc = DefaultAgentName
	}
	if o.JobWaitThreshold == 0 {
		o.JobWaitThreshold = DefaultJobWaitThreshold
	}
	if o.PoolAtMaxThreshold == 0 {
		o.PoolAtMaxThreshold = DefaultPoolAtMaxThreshold
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.ADO == nil {
		errs = append(errs, errors.New("ADO is nil"))
	}
	if o.Providers == nil {
		errs = append(errs, errors.New("Providers is nil"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("Store is nil"))
	}
	if o.AgentToken == nil {
		errs = append(errs, errors.New("AgentToken is nil"))
	}
	if o.OrgURL == "" {
		errs = append(errs, errors.New("OrgURL is empty"))
	}
	seen := map[string]bool{}
	for i, p := range o.Pools {
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("Pools[%d].Name is empty", i))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("Pools[%d].Name %q is listed twice", i, p.Name))
		}
		seen[p.Name] = true
		if p.Policy.Max < p.Policy.Min || p.Policy.Max < 0 || p.Policy.Min < 0 {
			errs = append(errs, fmt.Errorf("Pools[%d] (%s): want 0 <= min <= max, got min %d max %d",
				i, p.Name, p.Policy.Min, p.Policy.Max))
		}
	}
	return errors.Join(errs...)
}
