// Package controller runs one reconcile loop per pool: observe ADO, the provider and the store,
// ask scaler.Plan what to do, and act with the intent written to the store before the provider is
// called, so that a crash between any two steps is repaired by the next cycle.
//
// Scale-in follows the disable -> re-check -> terminate -> delete protocol so a busy agent is
// never terminated; each pool keeps one offline placeholder agent so ADO does not fail its jobs at
// scale to zero.
package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

// Controller reconciles the configured pools.
type Controller struct {
	opts   Options
	log    *slog.Logger
	m      *metrics
	pools  []*pool
	byName map[string]*pool
	// slots holds a token for each cycle running (see Options.MaxConcurrentCycles).
	slots chan struct{}
}

// pool is one configured pool's loop state.
type pool struct {
	cfg  PoolConfig
	prov provider.Provider
	log  *slog.Logger
	wake chan struct{} // buffered 1: wake-ups coalesce

	// cycle serialises reconciles of this pool (Run and ReconcileOnce may overlap); it guards
	// poolID, backoffUntil and alerts.
	cycle        sync.Mutex
	poolID       int
	backoffUntil time.Time
	alerts       alerts

	// mu guards what Status reads.
	mu            sync.Mutex
	counts        Counts
	lastReconcile time.Time
	lastErr       string
}

// New checks opts, applies defaults and resolves each pool's provider.
func New(opts Options) (*Controller, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("controller.New: %w", err)
	}
	c := &Controller{
		opts:   opts,
		log:    opts.Logger.With("component", "controller"),
		m:      newMetrics(opts.Registerer),
		byName: make(map[string]*pool, len(opts.Pools)),
		slots:  make(chan struct{}, opts.MaxConcurrentCycles),
	}
	for _, pc := range opts.Pools {
		prov, err := opts.Providers.Get(pc.Provider)
		if err != nil {
			return nil, fmt.Errorf("controller.New: pool %q: %w", pc.Name, err)
		}
		p := &pool{
			cfg:  pc,
			prov: prov,
			log:  c.log.With("pool", pc.Name),
			wake: make(chan struct{}, 1),
		}
		c.pools = append(c.pools, p)
		c.byName[pc.Name] = p
	}
	return c, nil
}

// Run reconciles every pool, one goroutine each, until ctx ends. Each pool's loop runs a cycle at
// once, then every Resync or as soon as Wake is called for it. Cycle errors are logged and the loop
// goes on; Run returns nil when ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, p := range c.pools {
		wg.Go(func() { c.loop(ctx, p) })
	}
	wg.Wait()
	return nil
}

func (c *Controller) loop(ctx context.Context, p *pool) {
	resync := time.NewTimer(0)
	defer resync.Stop()
	// held is a wake-up waiting out WakeInterval since the last cycle; the wake-ups that arrive
	// meanwhile coalesce into it.
	var held *time.Timer
	var heldC <-chan time.Time
	var last time.Time // start of the last cycle, on the wall clock the timers use
	for {
		select {
		case <-ctx.Done():
			if held != nil {
				held.Stop()
			}
			return
		case <-resync.C:
		case <-heldC:
		case <-p.wake:
			now := time.Now()
			if at := NextWakeCycle(last, now, c.opts.WakeInterval); at.After(now) {
				if heldC == nil {
					held = time.NewTimer(at.Sub(now))
					heldC = held.C
				}
				continue
			}
		}
		if held != nil { // this cycle sees what the held wake-up was for
			held.Stop()
			held, heldC = nil, nil
		}
		last = time.Now()
		if _, err := c.reconcile(ctx, p); err != nil && ctx.Err() == nil {
			p.log.Warn("reconcile failed; retrying next cycle", "err", err)
		}
		resync.Reset(c.opts.Resync)
	}
}

// NextWakeCycle is when a wake-up arriving at now runs a cycle, given the start of the pool's
// last cycle (zero: none yet): at once if that was at least interval ago, so an isolated event
// costs no delay; else interval after it, so a burst of wake-ups (a 200-job matrix is 200
// service-hook events) costs one cycle per interval instead of one per event. interval <= 0
// runs every wake-up at once. The simulator schedules its wake-ups with it too.
func NextWakeCycle(last, now time.Time, interval time.Duration) time.Time {
	if last.IsZero() || interval <= 0 {
		return now
	}
	if at := last.Add(interval); at.After(now) {
		return at
	}
	return now
}

// Wake asks pool's loop to reconcile now instead of at its next resync (for webhooks, service
// hooks and provider events). It never blocks. Wake-ups coalesce: those before the loop gets to
// run are one, and those within Options.WakeInterval of the last cycle's start are held to one
// cycle at the end of the interval (NextWakeCycle). An unknown pool is ignored.
func (c *Controller) Wake(poolName string) {
	p, ok := c.byName[poolName]
	if !ok {
		c.log.Debug("wake for an unknown pool ignored", "pool", poolName)
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// ReconcileOnce runs one cycle for the named pool and returns what it observed and did. It is what
// tests and `adofleet lambda`'s scheduled reconcile call. The error joins the failures of the
// cycle's steps; the steps that failed are retried by the next cycle.
func (c *Controller) ReconcileOnce(ctx context.Context, poolName string) (Result, error) {
	p, ok := c.byName[poolName]
	if !ok {
		return Result{}, fmt.Errorf("reconcile: unknown pool %q", poolName)
	}
	return c.reconcile(ctx, p)
}

// Pools returns the configured pool names, in config order.
func (c *Controller) Pools() []string {
	names := make([]string, len(c.pools))
	for i, p := range c.pools {
		names[i] = p.cfg.Name
	}
	return names
}

func (c *Controller) reconcile(ctx context.Context, p *pool) (Result, error) {
	p.cycle.Lock()
	defer p.cycle.Unlock()
	if err := c.acquireSlot(ctx); err != nil {
		return Result{Pool: p.cfg.Name}, fmt.Errorf("reconcile %s: wait for a free cycle slot: %w", p.cfg.Name, err)
	}
	defer c.releaseSlot()
	ctx, cancel := context.WithTimeout(ctx, c.opts.CycleTimeout)
	defer cancel()
	started := time.Now() // wall time for the duration metric only; decisions use opts.Now
	cy := c.newCycle(p)
	res, err := cy.run(ctx)
	cy.release() // nothing of this cycle's lists stays reachable; its memory serves the next cycle
	res.ADOCalls = int(cy.ado.calls.Load())
	c.m.duration.WithLabelValues(p.cfg.Name).Observe(time.Since(started).Seconds())
	c.m.adoCalls.WithLabelValues(p.cfg.Name).Set(float64(res.ADOCalls))
	outcome := outcomeOK
	if err != nil {
		outcome = outcomeError
	}
	c.m.reconciles.WithLabelValues(p.cfg.Name, outcome).Inc()
	p.log.Debug("reconcile done", "ado_calls", res.ADOCalls, "queued", res.Counts.QueuedJobs,
		"running", res.Counts.RunningJobs, "launched", res.Launched, "outcome", outcome)

	p.mu.Lock()
	p.lastReconcile = cy.now
	p.lastErr = ""
	if err != nil {
		p.lastErr = err.Error()
	}
	if res.Observed {
		p.counts = res.Counts
	}
	p.mu.Unlock()
	if res.Observed {
		c.m.observeCounts(p.cfg.Name, res.Counts)
	}
	return res, err
}
