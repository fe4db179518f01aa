package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// Config is one run: a trace through one policy.
type Config struct {
	Jobs   []Job
	Policy Policy
	Boot   BootDist // default BootFargate
	// SpotRate is the interruptions per instance-hour (0: none). An interrupted agent's job fails
	// and is queued again, as a pipeline retry would.
	SpotRate float64
	Seed     uint64 // boot and interruption draws; default 1
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
)

// runner is one run's state. Everything runs on the caller's goroutine, event by event.
type runner struct {
	ctx   context.Context
	cfg   Config
	now   time.Time
	q     eventQueue
	rnd   *rand.Rand
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
	// per pool: the time of the last cycle, its generation and the standby last set.
	lastCycle map[string]time.Time
	gen       map[string]uint64
	standby   map[string]int
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
}

// Run replays cfg.Jobs through cfg.Policy and returns the measurements.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if len(cfg.Jobs) == 0 {
		return Result{}, errors.New("sim: the trace has no jobs")
	}
	if cfg.Boot == (BootDist{}) {
		cfg.Boot = BootFargate
	}
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
	if cfg.Policy.Poll <= 0 {
		return Result{}, fmt.Errorf("sim: policy %q: poll must be positive", cfg.Policy.Name)
	}
	jobs := slices.Clone(cfg.Jobs)
	slices.SortStableFunc(jobs, func(a, b Job) int { return a.QueueTime.Compare(b.QueueTime) })
	cfg.Jobs = jobs
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "adofleet-sim-")
		if err != nil {
			return Result{}, fmt.Errorf("sim: store directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	r := &runner{
		ctx: ctx, cfg: cfg, now: jobs[0].QueueTime.Add(-warmUp),
		rnd: rand.New(rand.NewPCG(cfg.Seed, 0xb007)),
		log: cfg.Logger.With("component", "sim", "policy", cfg.Policy.Name),
		ids: map[string]int{}, caps: map[string]map[string]string{},
		agents: map[string]*simAgent{}, jobs: make([]jobRun, len(jobs)), byReq: map[int64]int{},
		open: len(jobs), lastCycle: map[string]time.Time{}, gen: map[string]uint64{}, standby: map[string]int{},
	}
	r.res.Policy = cfg.Policy.Name
	r.prov = &simProvider{r: r, insts: map[string]*instance{}, byToken: map[string][]*instance{}}
	closeStore, err := r.build(filepath.Join(dir, "sim.db"))
	if err != nil {
		return Result{}, err
	}
	defer closeStore()
	if err := r.loop(); err != nil {
		return Result{}, err
	}
	return r.finish(), nil
}

// build makes the stack: Org, server, ADO client, store, controller.
func (r *runner) build(dbPath string) (func(), error) {
	clock := func() time.Time { return r.now }
	r.org = adosim.NewOrg(adosim.OrgOptions{Clock: adosim.ClockFunc(clock), Seed: r.cfg.Seed,
		SessionTimeout: longTimeouts, LockDuration: longTimeouts})
	srv := adosim.NewServer(r.org, adosim.ServerOptions{PAT: simPAT, MessagePollTimeout: time.Millisecond})
	hc := &http.Client{Transport: adosim.InProcess{Handler: srv}}
	r.api = adosim.NewAgentClient(simOrgURL, simPAT, hc, adosim.ClockFunc(clock))
	client, err := ado.New(ado.Options{OrgURL: simOrgURL, PAT: simPAT, HTTPClient: hc, MaxRetries: -1})
	if err != nil {
		return nil, fmt.Errorf("sim: ado client: %w", err)
	}
	for _, j := range r.cfg.Jobs {
		if _, ok := r.caps[j.Pool]; !ok {
			r.pools = append(r.pools, j.Pool)
			r.caps[j.Pool] = map[string]string{}
		}
		for _, d := range j.Demands {
			name, value, ok := strings.Cut(d, " -equals ")
			if !ok {
				name, value = strings.TrimSpace(d), "true"
			}
			r.caps[j.Pool][strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	st, err := sqlite.Open(r.ctx, dbPath, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("sim: store: %w", err)
	}
	p := r.cfg.Policy
	var pcs []controller.PoolConfig
	for _, name := range r.pools {
		id, err := r.org.AddPool(name)
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("sim: add pool %q: %w", name, err)
		}
		r.ids[name] = id
		pcs = append(pcs, controller.PoolConfig{Name: name, Provider: "sim", Policy: scaler.Policy{
			Max: r.cfg.Max, Standby: p.Standby, IdleTimeout: p.IdleTimeout,
			RegistrationTimeout: 10*time.Minute + r.cfg.Boot.Max, OneJobPerAgent: !p.ReuseAgents,
			Capabilities: r.caps[name],
		}})
	}
	r.ctrl, err = controller.New(controller.Options{
		ControllerID: "sim", OrgURL: simOrgURL, ADO: client,
		Providers: controller.ProviderMap{"sim": r.prov}, Store: st, Pools: pcs,
		AgentToken: func() string { return simPAT }, Resync: p.Poll, Now: clock,
		Logger: r.cfg.Logger.With("policy", p.Name), NameFunc: r.agentName,
		JobWaitThreshold: -1, PoolAtMaxThreshold: -1,
	})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("sim: controller: %w", err)
	}
	return func() { _ = st.Close() }, nil
}

func (r *runner) agentName(pool string) string {
	r.nameSeq++
	return fmt.Sprintf("%s-%06d", pool, r.nameSeq)
}

// loop runs events until every job is settled.
func (r *runner) loop() error {
	for i, j := range r.cfg.Jobs {
		r.q.schedule(&event{at: j.QueueTime, kind: evArrive, idx: i})
	}
	for _, p := range r.pools {
		r.q.schedule(&event{at: r.now, kind: evReconcile, name: p})
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
			err = r.reconcile(e.name, e.gen)
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
	if info, _ := r.org.Job(id); info.State == adosim.JobFinished { // ADO failed it at once
		r.jobs[idx].failed = true
		r.open--
		r.res.Failed++
		r.log.Warn("job failed at once", "job", idx+1, "message", info.StatusMessage)
		return nil
	}
	if p := r.cfg.Policy; p.WakeOnQueue {
		r.q.schedule(&event{at: r.now.Add(p.WakeDelay), kind: evReconcile, name: j.Pool})
	}
	return nil
}

// reconcile runs one controller cycle for pool. gen is 0 for a wake-up; a poll carries the
// generation it was scheduled at and is dropped if a cycle ran since (the timer was reset).
func (r *runner) reconcile(pool string, gen uint64) error {
	if gen != 0 && gen != r.gen[pool] {
		return nil
	}
	if last, ok := r.lastCycle[pool]; ok && last.Equal(r.now) {
		return nil // wake-ups at the same instant coalesce
	}
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
	if err != nil {
		r.res.CycleErrors++
		r.log.Warn("cycle failed", "pool", pool, "err", err)
	}
	r.lastCycle[pool] = r.now
	r.gen[pool]++
	r.q.schedule(&event{at: r.now.Add(r.cfg.Policy.Poll), kind: evReconcile, name: pool, gen: r.gen[pool]})
	return nil
}

// boot registers the instance's agent: it goes online and may be handed a job at once.
func (r *runner) boot(id string) error {
	in := r.prov.insts[id]
	if in == nil || !in.State.Alive() {
		return nil // terminated while booting
	}
	a := &simAgent{name: in.AgentName, pool: in.Pool, inst: in}
	r.agents[a.name] = a
	caps := map[string]string{"Agent.Name": a.name}
	for k, v := range r.caps[a.pool] {
		caps[k] = v
	}
	if err := a.register(r.ctx, r.api, r.ids[a.pool], caps); err != nil {
		// The controller may have deleted the name meanwhile; the instance exits.
		r.log.Warn("agent failed to register", "agent", a.name, "err", err)
		a.state = agentGone
		r.prov.end(in, "agent failed to register")
		return nil
	}
	a.state = agentIdle
	return nil
}

// dispatch starts the jobs the Org has assigned to idle agents.
func (r *runner) dispatch() error {
	for _, pool := range r.pools {
		for _, info := range r.org.Agents(pool) {
			if info.AssignedRequest == 0 {
				continue
			}
			a := r.agents[info.Name]
			if a == nil || a.state != agentIdle {
				continue
			}
			if err := r.start(a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *runner) start(a *simAgent) error {
	jm, err := a.receive(r.ctx, r.api, r.ids[a.pool])
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	idx, ok := r.byReq[jm.RequestID]
	if !ok {
		return fmt.Errorf("sim: agent %q got request %d, which no trace job queued", a.name, jm.RequestID)
	}
	a.state, a.job, a.jobIdx = agentBusy, jm, idx
	jr := &r.jobs[idx]
	jr.started, jr.boot = r.now, a.inst.boot
	r.q.schedule(&event{at: r.now.Add(r.cfg.Jobs[idx].Duration), kind: evFinish, name: a.name})
	return nil
}

// jobDone ends the agent's job. A --once agent closes its session first (as the agent does) and
// exits, ending its instance.
func (r *runner) jobDone(name string) error {
	a := r.agents[name]
	if a == nil || a.state != agentBusy {
		return nil // killed meanwhile
	}
	poolID := r.ids[a.pool]
	once := !r.cfg.Policy.ReuseAgents
	if once {
		if err := a.closeSession(r.ctx, r.api, poolID); err != nil {
			return fmt.Errorf("sim: %w", err)
		}
	}
	if err := a.finish(r.ctx, r.api, poolID, "succeeded"); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	r.jobs[a.jobIdx].finished = true
	r.res.busyTime += r.cfg.Jobs[a.jobIdx].Duration
	r.open--
	a.job = adosim.JobMessage{}
	if once {
		a.state = agentGone
		r.prov.end(a.inst, "agent exited after its job")
		return nil
	}
	a.state = agentIdle
	return nil
}

// interrupt is a spot interruption: the instance dies with its agent.
func (r *runner) interrupt(id string) {
	if in := r.prov.insts[id]; in != nil && in.State.Alive() {
		r.res.Interruptions++
		r.killAgent(in, "spot interruption")
	}
}

// killAgent ends an instance and its agent process. A job it was running fails and is queued
// again (a retry): the controller must never cause this, an interruption may.
func (r *runner) killAgent(in *instance, reason string) {
	a := r.agents[in.AgentName]
	if a != nil && a.state != agentGone {
		poolID := r.ids[a.pool]
		if a.state == agentBusy {
			if reason != "spot interruption" {
				r.res.BusyKilled++
			}
			r.res.busyTime += r.now.Sub(r.jobs[a.jobIdx].started)
			// ADO fails a job whose agent is lost; the pipeline's retry queues it again.
			if err := a.finish(r.ctx, r.api, poolID, "failed"); err != nil {
				r.log.Warn("failing the lost job", "agent", a.name, "err", err)
			}
			r.requeue(a.jobIdx)
		}
		if err := a.closeSession(r.ctx, r.api, poolID); err != nil {
			r.log.Debug("session already gone", "agent", a.name, "err", err)
		}
		a.state = agentGone
	}
	r.prov.end(in, reason)
}

// requeue queues trace job idx again after its agent was lost.
func (r *runner) requeue(idx int) {
	r.res.Retried++
	j := r.cfg.Jobs[idx]
	id, err := r.org.QueueJob(j.Pool, adosim.JobSpec{Demands: j.Demands, Duration: j.Duration})
	if err != nil {
		r.log.Warn("requeue failed", "job", idx+1, "err", err)
		return
	}
	r.byReq[id] = idx
	r.jobs[idx].queued = r.now
	if p := r.cfg.Policy; p.WakeOnQueue {
		r.q.schedule(&event{at: r.now.Add(p.WakeDelay), kind: evReconcile, name: j.Pool})
	}
}
