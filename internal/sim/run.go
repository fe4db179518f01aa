package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
)

// Config is one run: a trace through one policy.
type Config struct {
	Jobs   []Job
	Policy Policy
	Boot   BootDist // default BootFargate
	// BootSequence, if set, replaces Boot: the k-th job queued in a pool (and the k-th spare
	// draw, see boots.go) boots in BootSequence[k mod len] (measured boot times, or a hand-built
	// check).
	BootSequence []time.Duration
	// CycleTime is how long a controller cycle takes before it calls the provider (its observe
	// calls to ADO, the provider and the store): launches happen that long after the cycle's
	// observation (default 500ms; negative: none). The ideal launcher has none.
	CycleTime time.Duration
	// SpotRate is the interruptions per instance-hour (0: none). An interrupted agent's job fails
	// and is queued again, as a pipeline retry would.
	SpotRate float64
	// Seed seeds the draws (default 1): boot times come from streams per pool, one draw per job
	// in queue order, so a job's agent boots in the same time under every policy and the ideal
	// launcher (boots.go); interruptions come from a stream of their own.
	Seed uint64
	// Max is each pool's licence cap (default 500).
	Max int
	// PricePerHour is the price of one instance-hour (default 0.05 USD).
	PricePerHour float64
	// Dir holds the run's SQLite store; "" uses a temporary directory removed at the end.
	Dir    string
	Logger *slog.Logger
	// Horizon bounds the run: it fails if jobs are still unfinished this long after the last
	// queue time (default 24h).
	Horizon time.Duration
}

const (
	simPAT       = "sim-pat"
	simOrgURL    = "http://adosim.invalid/sim"
	warmUp       = 2 * time.Minute // the controller's first cycle runs this long before the first job
	longTimeouts = 100000 * time.Hour
	forgetAfter  = time.Hour // finished jobs older than this leave the Org
	// DefaultCycleTime is Config.CycleTime's default: two ADO list calls, a provider list and a
	// store read, about as long as a small pool's cycle takes against the real services.
	DefaultCycleTime = 500 * time.Millisecond
)

// runner is one run's state. Everything runs on the caller's goroutine, event by event.
type runner struct {
	ctx   context.Context
	cfg   Config
	now   time.Time
	q     eventQueue
	rnd   *rand.Rand            // interruptions
	boots map[string]*poolBoots // per pool: boot draws and the jobs no launch covers yet
	log   *slog.Logger
	org   *adosim.Org
	api   *adosim.AgentClient
	ctrl  *controller.Controller
	prov  *simProvider
	pools []string
	ids   map[string]int               // pool -> ADO id
	caps  map[string]map[string]string // pool -> capabilities its agents offer
	// agents by name: the simulated agent processes.
	agents map[string]*simAgent
	jobs   []jobRun
	byReq  map[int64]int // request id -> trace index
	open   int           // trace jobs not settled (finished or failed)
	idle   int           // agents in agentIdle
	// forgotAt is when the Org last dropped long-finished jobs.
	forgotAt time.Time
	// per pool: the time of the last cycle, its generation, the standby last set, and whether a
	// wake-up is held until the wake interval has passed.
	lastCycle map[string]time.Time
	gen       map[string]uint64
	standby   map[string]int
	held      map[string]bool
	nameSeq   int
	res       Result
}

// jobRun is what happened to one trace job.
type jobRun struct {
	queued   time.Time // of its latest attempt
	started  time.Time
	boot     time.Duration // of the instance that ran it
	finished bool
	failed   bool
	// ownBoot is the boot drawn for its latest attempt, which the launch made for it gets;
	// covered: a launch was made for that attempt, or it started.
	ownBoot time.Duration
	covered bool
}

// Run replays cfg.Jobs through cfg.Policy and returns the measurements. Unless the policy is
// the ideal launcher itself, the trace is first run through IdealPolicy with the same draws, and
// each job's wait is compared with its wait there (Result.WaitBeyondIdeal).
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	var ideal []jobRun
	if !cfg.Policy.Ideal {
		ic := cfg
		ic.Policy = IdealPolicy()
		ir, err := replay(ctx, ic)
		if err != nil {
			return Result{}, fmt.Errorf("sim: the ideal launcher: %w", err)
		}
		ideal = ir.jobs
	}
	r, err := replay(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	return r.finish(ideal), nil
}

func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Jobs) == 0 {
		return cfg, errors.New("sim: the trace has no jobs")
	}
	if cfg.Boot == (BootDist{}) {
		cfg.Boot = BootFargate
	}
	for i, b := range cfg.BootSequence {
		if b < 0 {
			return cfg, fmt.Errorf("sim: boot sequence [%d]: %v is negative", i, b)
		}
	}
	if cfg.CycleTime == 0 {
		cfg.CycleTime = DefaultCycleTime
	}
	cfg.CycleTime = max(cfg.CycleTime, 0)
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Max <= 0 {
		cfg.Max = 500
	}
	if cfg.PricePerHour == 0 {
		cfg.PricePerHour = 0.05
	}
	if cfg.Horizon <= 0 {
		cfg.Horizon = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Policy.Poll <= 0 && !cfg.Policy.Ideal {
		return cfg, fmt.Errorf("sim: policy %q: poll must be positive", cfg.Policy.Name)
	}
	jobs := slices.Clone(cfg.Jobs)
	slices.SortStableFunc(jobs, func(a, b Job) int { return a.QueueTime.Compare(b.QueueTime) })
	cfg.Jobs = jobs
	return cfg, nil
}

// replay runs one policy over the (sorted) trace and returns the finished runner.
func replay(ctx context.Context, cfg Config) (*runner, error) {
	jobs := cfg.Jobs
	r := &runner{
		ctx: ctx, cfg: cfg, now: jobs[0].QueueTime.Add(-warmUp),
		rnd:   rand.New(rand.NewPCG(cfg.Seed, 0x5b07)),
		boots: map[string]*poolBoots{},
		log:   cfg.Logger.With("component", "sim", "policy", cfg.Policy.Name),
		ids:   map[string]int{}, caps: map[string]map[string]string{},
		agents: map[string]*simAgent{}, jobs: make([]jobRun, len(jobs)), byReq: map[int64]int{},
		open: len(jobs), lastCycle: map[string]time.Time{}, gen: map[string]uint64{}, standby: map[string]int{},
		held: map[string]bool{},
	}
	r.res.Policy = cfg.Policy.Name
	r.prov = &simProvider{r: r, insts: map[string]*instance{}, byToken: map[string][]*instance{}}
	if cfg.Policy.Ideal {
		if err := r.buildIdeal(); err != nil {
			return nil, err
		}
	} else {
		dir := cfg.Dir
		if dir == "" {
			tmp, err := os.MkdirTemp(scratchRoot(), "adofleet-sim-")
			if err != nil {
				return nil, fmt.Errorf("sim: store directory: %w", err)
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		closeStore, err := r.build(filepath.Join(dir, "sim.db"))
		if err != nil {
			return nil, err
		}
		defer closeStore()
	}
	if err := r.loop(); err != nil {
		return nil, err
	}
	return r, nil
}

// loop runs events until every job is settled.
func (r *runner) loop() error {
	for i, j := range r.cfg.Jobs {
		r.q.schedule(&event{at: j.QueueTime, kind: evArrive, idx: i})
	}
	if r.ctrl != nil {
		for _, p := range r.pools {
			r.q.schedule(&event{at: r.now, kind: evReconcile, name: p})
		}
	}
	deadline := r.cfg.Jobs[len(r.cfg.Jobs)-1].QueueTime.Add(r.cfg.Horizon)
	for r.open > 0 {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if r.q.Len() == 0 {
			return fmt.Errorf("sim: policy %s: nothing left to happen with %d jobs unfinished", r.cfg.Policy.Name, r.open)
		}
		e := r.q.next()
		if e.at.After(deadline) {
			return fmt.Errorf("sim: policy %s: %d jobs still unfinished %s after the last one was queued", r.cfg.Policy.Name, r.open, r.cfg.Horizon)
		}
		if e.at.After(r.now) {
			r.now = e.at
		}
		if r.now.Sub(r.forgotAt) >= forgetAfter {
			// ADO's job-request list shows only recent requests; an Org keeping every finished
			// job makes each list call, and so a long run, grow with the trace.
			r.org.ForgetFinished(forgetAfter)
			r.forgotAt = r.now
		}
		var err error
		switch e.kind {
		case evArrive:
			err = r.arrive(e.idx)
		case evBoot:
			err = r.boot(e.inst)
		case evFinish:
			err = r.jobDone(e.name)
		case evInterrupt:
			r.interrupt(e.inst)
		case evReconcile:
			err = r.reconcile(e.name, e.gen, e.wake)
		case evWake:
			err = r.wake(e.name)
		}
		if err != nil {
			return err
		}
		if err := r.dispatch(); err != nil {
			return err
		}
	}
	return nil
}

// arrive queues trace job idx in the Org, and wakes the controller if the policy is event-driven.
func (r *runner) arrive(idx int) error {
	j := r.cfg.Jobs[idx]
	id, err := r.org.QueueJob(j.Pool, adosim.JobSpec{Demands: j.Demands, Duration: j.Duration})
	if err != nil {
		return fmt.Errorf("sim: queue job %d: %w", idx+1, err)
	}
	r.byReq[id] = idx
	r.jobs[idx].queued = r.now
	r.queuedFor(idx, false)
	if info, _ := r.org.Job(id); info.State == adosim.JobFinished { // ADO failed it at once
		r.jobs[idx].failed, r.jobs[idx].covered = true, true
		r.open--
		r.res.Failed++
		r.log.Warn("job failed at once", "job", idx+1, "message", info.StatusMessage)
		return nil
	}
	return r.react(idx)
}

// react is what follows a job being queued: the ideal launcher starts its agent at once; an
// event-driven policy's controller is woken once the event is delivered.
func (r *runner) react(idx int) error {
	j := r.cfg.Jobs[idx]
	if r.cfg.Policy.Ideal {
		return r.launchIdeal(j.Pool)
	}
	if p := r.cfg.Policy; p.WakeOnQueue {
		r.q.schedule(&event{at: r.now.Add(p.WakeDelay), kind: evWake, name: j.Pool})
	}
	return nil
}

// wake is a wake-up reaching the controller, handled as Controller.Run's loop does: a cycle at
// once, or, within the wake interval of the last cycle, one held cycle at the interval's end
// that the wake-ups meanwhile coalesce into.
func (r *runner) wake(pool string) error {
	r.res.Wakeups++
	at := controller.NextWakeCycle(r.lastCycle[pool], r.now, r.cfg.Policy.WakeInterval)
	if !at.After(r.now) {
		return r.reconcile(pool, 0, true)
	}
	if !r.held[pool] {
		r.held[pool] = true
		// Carries the generation: dropped if a poll cycle runs first, as the loop stops its timer.
		r.q.schedule(&event{at: at, kind: evReconcile, name: pool, gen: r.gen[pool], wake: true})
	}
	return nil
}

// reconcile runs one controller cycle for pool. gen is 0 for a wake-up run at once; a poll or
// a held wake-up carries the generation it was scheduled at and is dropped if a cycle ran since
// (the loop reset or stopped its timer).
func (r *runner) reconcile(pool string, gen uint64, byWake bool) error {
	if gen != 0 && gen != r.gen[pool] {
		return nil
	}
	if last, ok := r.lastCycle[pool]; ok && last.Equal(r.now) {
		return nil // wake-ups at the same instant are one (the loop's wake channel holds one)
	}
	r.held[pool] = false
	if f := r.cfg.Policy.StandbyAt; f != nil {
		if n := f(pool, r.now); n != r.standby[pool] {
			if err := r.ctrl.SetStandby(pool, n); err != nil {
				return fmt.Errorf("sim: %w", err)
			}
			r.standby[pool] = n
		}
	}
	res, err := r.ctrl.ReconcileOnce(r.ctx, pool)
	r.res.ADOCalls += res.ADOCalls
	r.res.Cycles++
	if byWake {
		r.res.WakeCycles++
	}
	if err != nil {
		r.res.CycleErrors++
		r.log.Warn("cycle failed", "pool", pool, "err", err)
	}
	r.lastCycle[pool] = r.now
	r.gen[pool]++
	r.q.schedule(&event{at: r.now.Add(r.cfg.Policy.Poll), kind: evReconcile, name: pool, gen: r.gen[pool]})
	return nil
}
