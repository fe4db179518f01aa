package checks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/store"
)

// Defaults for CallbackerOptions.
const (
	DefaultTimeout    = 30 * time.Minute
	DefaultReserveFor = 2 * time.Minute
	DefaultParallel   = 8
)

// CallbackerOptions configure a Callbacker.
type CallbackerOptions struct {
	Requests Requests
	Claims   Claimer // the state store
	ADO      ADO
	// Timeout is how long a check waits for an agent before it is failed (default 30m). Keep it
	// below the check's own timeout in ADO, so the job fails with adofleet's reason.
	Timeout time.Duration
	// ReserveFor is how long an agent that released a check is kept from releasing another while
	// it waits for its job (default 2m); the reservation ends early once the agent takes a job.
	// Kept short because ADO may give the released job to another idle agent, and then nothing
	// ends the reservation early: meanwhile the agent counts as supply for the controller but
	// passes no other check, so a waiting check stalls until the reservation runs out.
	ReserveFor time.Duration
	// Parallel bounds the concurrent calls to ADO in one round (default 8).
	Parallel int
	// Events, if set, is told of every check that fails: no agent in time, a launch that failed
	// for good (Fail), or a callback whose post failed (it is never sent again). Nil: none.
	Events     notify.Publisher
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Callbacker answers pending checks: succeeded once an idle online agent of the pool is there,
// failed on timeout or by Fail.
type Callbacker struct {
	opts    CallbackerOptions
	log     *slog.Logger
	metrics *callbackMetrics
	nudge   chan struct{}

	mu        sync.Mutex // one round at a time; guards the maps below
	poolIDs   map[string]int
	announced map[store.CallbackKey]bool
	resMu     sync.Mutex                      // guards reserved, read by Reserved outside a round
	reserved  map[string]map[string]time.Time // pool -> agent name -> when it released a check
	// completing holds the requests this process has started to complete (claim, post, done), so
	// PendingByPool stops counting them as demand from the claim on: between the post and the
	// done mark the released job is already queued in ADO and would otherwise count twice.
	compMu     sync.Mutex
	completing map[store.CallbackKey]time.Time
}

// NewCallbacker validates opts and returns a Callbacker.
func NewCallbacker(opts CallbackerOptions) (*Callbacker, error) {
	if opts.Requests == nil || opts.Claims == nil || opts.ADO == nil {
		return nil, errors.New("checks: callbacker options: Requests, Claims and ADO are required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ReserveFor <= 0 {
		opts.ReserveFor = DefaultReserveFor
	}
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newCallbackMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("checks: %w", err)
	}
	return &Callbacker{
		opts: opts, log: opts.Logger.With("component", "checks-callbacker"), metrics: m,
		nudge: make(chan struct{}, 1), poolIDs: map[string]int{},
		announced: map[store.CallbackKey]bool{}, reserved: map[string]map[string]time.Time{},
	}, nil
}

// Nudge asks Run for a round now (after a check call or an agent registering). It never blocks.
func (c *Callbacker) Nudge() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

// Run calls RunOnce every interval and on Nudge until ctx ends. A failed round is logged and
// retried at the next one.
func (c *Callbacker) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for ctx.Err() == nil {
		// A round is never cut short by shutdown: a callback claimed and then cancelled would never
		// be sent (claims are at most once) and its check would time out in ADO. The round gets
		// its own bounded context instead, and Run returns only between rounds.
		roundCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), roundTimeout)
		err := c.RunOnce(roundCtx)
		cancel()
		if err != nil {
			c.log.Warn("check callback round failed; retrying next round", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-c.nudge:
		}
	}
	return ctx.Err()
}

// roundTimeout bounds one round of callbacks, including the time a shutdown waits for it.
const roundTimeout = 30 * time.Second

// action is one thing a round does for one request.
type action struct {
	req      CheckRequest
	announce bool    // only log that an agent is starting
	outcome  Outcome // otherwise: complete with this
}

// RunOnce looks at every pending request once: it completes those whose pool has a free agent
// or whose wait timed out, and tells the others' logs that an agent is starting.
func (c *Callbacker) RunOnce(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pending, err := c.opts.Requests.Pending(ctx, "")
	if err != nil {
		return err
	}
	byPool := map[string][]CheckRequest{}
	var pools []string
	for _, r := range pending {
		if _, ok := byPool[r.Pool]; !ok {
			pools = append(pools, r.Pool)
		}
		byPool[r.Pool] = append(byPool[r.Pool], r)
	}
	var errs []error
	var acts []action
	for _, pool := range pools {
		a, err := c.plan(ctx, pool, byPool[pool])
		errs = append(errs, err)
		acts = append(acts, a...)
	}
	errs = append(errs, c.execute(ctx, acts)...)
	return errors.Join(errs...)
}

// plan decides the actions for one pool's pending requests (oldest first). Timeouts are decided
// even when ADO cannot be reached.
func (c *Callbacker) plan(ctx context.Context, pool string, reqs []CheckRequest) ([]action, error) {
	now := c.opts.Now()
	var live []CheckRequest
	var acts []action
	for _, r := range reqs {
		if now.Sub(r.ReceivedAt) >= c.opts.Timeout {
			acts = append(acts, action{req: r, outcome: Outcome{Result: ResultFailed,
				Reason: fmt.Sprintf("no agent came online in pool %s within %s", pool, c.opts.Timeout), At: now}})
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return acts, nil
	}
	free, err := c.freeAgents(ctx, pool, now)
	for _, r := range live {
		switch {
		case len(free) > 0:
			name := free[0]
			free = free[1:]
			c.reserve(pool, name, now)
			acts = append(acts, action{req: r, outcome: Outcome{Result: ResultSucceeded, Agent: name,
				Reason: fmt.Sprintf("agent %s is online in pool %s", name, pool), At: now}})
		case !c.announced[r.Key()]:
			acts = append(acts, action{req: r, announce: true})
		}
	}
	return acts, err
}

// freeAgents lists the pool's online, enabled, idle agents that have not released a check yet.
func (c *Callbacker) freeAgents(ctx context.Context, pool string, now time.Time) ([]string, error) {
	id, ok := c.poolIDs[pool]
	if !ok {
		p, err := c.opts.ADO.FindPool(ctx, pool)
		if err != nil {
			return nil, fmt.Errorf("checks: find pool %q: %w", pool, err)
		}
		id = p.ID
		c.poolIDs[pool] = id
	}
	agents, err := c.opts.ADO.ListAgents(ctx, id)
	if err != nil {
		if errors.Is(err, ado.ErrNotFound) {
			delete(c.poolIDs, pool) // the pool was recreated: look it up again next round
		}
		return nil, fmt.Errorf("checks: list agents of pool %q: %w", pool, err)
	}
	c.resMu.Lock()
	defer c.resMu.Unlock()
	res := c.reserved[pool]
	seen := map[string]bool{}
	var free []string
	for _, a := range agents {
		seen[a.Name] = true
		busy := a.AssignedRequest != nil
		if at, ok := res[a.Name]; ok {
			if busy || now.Sub(at) >= c.opts.ReserveFor {
				delete(res, a.Name) // it took its job (or never will): the reservation is over
			}
			continue
		}
		if a.Status == ado.AgentOnline && a.Enabled && !busy {
			free = append(free, a.Name)
		}
	}
	for name := range res {
		if !seen[name] {
			delete(res, name)
		}
	}
	return free, nil
}

func (c *Callbacker) reserve(pool, agent string, now time.Time) {
	c.resMu.Lock()
	defer c.resMu.Unlock()
	if c.reserved[pool] == nil {
		c.reserved[pool] = map[string]time.Time{}
	}
	c.reserved[pool][agent] = now
}

// execute runs the actions with bounded parallelism and records which announcements were made.
func (c *Callbacker) execute(ctx context.Context, acts []action) []error {
	errs := make([]error, len(acts))
	sem := make(chan struct{}, c.opts.Parallel)
	var wg sync.WaitGroup
	for i, a := range acts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if a.announce {
				errs[i] = c.opts.ADO.AppendLog(ctx, a.req.Plan, []string{
					fmt.Sprintf("adofleet: starting an agent for pool %s", a.req.Pool)})
				if errs[i] != nil {
					errs[i] = fmt.Errorf("checks: log to plan %s: %w", a.req.Plan.PlanID, errs[i])
				}
				return
			}
			errs[i] = c.complete(ctx, a.req, a.outcome)
		}()
	}
	wg.Wait()
	for i, a := range acts {
		if errs[i] == nil {
			if a.announce {
				c.announced[a.req.Key()] = true
			} else {
				delete(c.announced, a.req.Key())
			}
		}
	}
	return errs
}

// Fail fails the pending request with key (for a launch that failed for good). It reports false
// if no such request is pending.
func (c *Callbacker) Fail(ctx context.Context, key store.CallbackKey, reason string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pending, err := c.opts.Requests.Pending(ctx, "")
	if err != nil {
		return false, err
	}
	for _, r := range pending {
		if r.Key() == key {
			delete(c.announced, key)
			return true, c.complete(ctx, r, Outcome{Result: ResultFailed, Reason: reason, At: c.opts.Now()})
		}
	}
	return false, nil
}
