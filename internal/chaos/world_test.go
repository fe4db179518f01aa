package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/faultinject"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

const (
	pat    = "chaos-pat"
	orgURL = "http://adosim.invalid/sim"
	demand = "docker"
)

// poolSpec is one pool of the world.
type poolSpec struct {
	name    string
	max     int
	standby int
	reuse   bool // agents take several jobs (not --once)
	checked bool // its jobs wait for an Approvals-and-Checks "Invoke REST API" check (checks_test.go)
}

var pools = []poolSpec{
	{name: "linux", max: 4, standby: 1},
	{name: "windows", max: 6},
	{name: "reuse", max: 3, reuse: true},
	{name: "checked", max: 3, checked: true},
}

// world is the real stack and the simulated agents around it.
type world struct {
	t    *testing.T
	ctx  context.Context
	seed int64
	rnd  *rand.Rand
	step time.Duration
	inj  *faultinject.Injector
	logs *ring

	org      *adosim.Org
	api      *adosim.AgentClient // the agents' client: a server without faults
	prov     *fake.Provider
	st       store.Store // the SQLite store, without faults (for the checks)
	db       *sql.DB     // a read-only handle on the store's file, for the lease and the claims
	replicas []*replica  // two controllers with leader election (replica_test.go)
	pools    []poolSpec
	poolIDs  map[string]int
	policy   map[string]scaler.Policy
	electing bool // set once the first leader is elected: every action needs a lease from then on
	pause    *pause
	pauseAt  float64 // probability per step that the leader pauses
	procMode bool    // a pause stops the whole process, lease renewals included (-chaos.pause=process)

	agents       map[string]*agent // by name
	agentOrder   []string
	works        []*work
	byReq        map[int64]*work
	failedByLoss map[int64]bool // requests the test failed because their agent was lost
	arrivalRate  float64        // jobs per pool per step in the current phase
	names        int
	finished     int
	retried      int
	races        int // jobs queued just before a disable, to race the drain
	checks       checkTally
	leases       leaseTally
	mu           sync.Mutex // guards violations
	violations   []string
}

// newWorld builds the stack inside the synctest bubble of t.
func newWorld(t *testing.T, seed int64, rates faultinject.Rates, procMode bool) *world {
	w := &world{
		t: t, ctx: t.Context(), seed: seed, step: 15 * time.Second,
		rnd:   rand.New(rand.NewPCG(uint64(seed), 0xc4a05)),
		inj:   faultinject.New(seed, rates),
		logs:  newRing(400),
		pools: pools, poolIDs: map[string]int{}, policy: map[string]scaler.Policy{},
		agents: map[string]*agent{}, byReq: map[int64]*work{}, failedByLoss: map[int64]bool{},
		pauseAt: 1.0 / 100, procMode: procMode,
	}
	w.checks.plans = map[string]*checkWatch{}
	long := 100000 * time.Hour // renewals are not simulated: sessions and locks never lapse
	w.org = adosim.NewOrg(adosim.OrgOptions{Seed: uint64(seed), SessionTimeout: long, LockDuration: long})
	ctrlSrv := adosim.NewServer(w.org, adosim.ServerOptions{PAT: pat, MessagePollTimeout: time.Millisecond})
	agentSrv := adosim.NewServer(w.org, adosim.ServerOptions{PAT: pat, MessagePollTimeout: time.Millisecond})
	adoFaults := w.inj.ADO()
	ctrlSrv.SetFaults(func(r *http.Request) *adosim.Fault {
		w.maybeRace(r)
		return adoFaults(r)
	})
	w.api = adosim.NewAgentClient(orgURL, pat, &http.Client{Transport: adosim.InProcess{Handler: agentSrv}}, nil)
	logger := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := sqlite.Open(w.ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w.st = st
	if w.db, err = sql.Open("sqlite", path+"?_query_only=1&_busy_timeout=10000"); err != nil {
		t.Fatalf("open the store read-only: %v", err)
	}
	t.Cleanup(func() { _ = w.db.Close() })

	w.prov = fake.New()
	w.prov.OnLaunch = w.onLaunch
	w.prov.OnTerminate = func(inst provider.Instance) { w.onEnd(inst, "terminated by the controller", true) }
	w.prov.OnInterrupt = func(inst provider.Instance) { w.onEnd(inst, inst.Reason, false) }

	var pcs []controller.PoolConfig
	for _, p := range w.pools {
		id, err := w.org.AddPool(p.name)
		if err != nil {
			t.Fatalf("add pool %s: %v", p.name, err)
		}
		w.poolIDs[p.name] = id
		pol := scaler.Policy{Max: p.max, Standby: p.standby, IdleTimeout: 2 * time.Minute,
			RegistrationTimeout: 10 * time.Minute, OneJobPerAgent: !p.reuse,
			Capabilities: map[string]string{demand: "true"}}
		w.policy[p.name] = pol
		pcs = append(pcs, controller.PoolConfig{Name: p.name, Provider: "fake", Policy: pol})
	}
	// One faulty store, cloud and network, shared by the replicas as they would share them.
	shared := sharedDeps{
		st:   w.inj.Store(st),
		prov: w.inj.Provider(w.prov),
		net:  w.inj.Transport(adosim.InProcess{Handler: ctrlSrv}),
	}
	for i := range 2 {
		w.replicas = append(w.replicas, w.newReplica(fmt.Sprintf("replica-%c", 'a'+i), shared, pcs, logger))
	}
	w.setUpChecks(shared, logger)
	// The placeholders go in before the first job, as serve and the demo do at start: without
	// them ADO fails a job at once in a pool with no agent.
	w.inj.SetEnabled(false)
	if err := w.replicas[0].ctrl.EnsurePlaceholders(w.ctx); err != nil {
		t.Fatalf("register the placeholders: %v", err)
	}
	w.startElection()
	t.Cleanup(w.releasePause) // before the electors stop: a paused renewal must not hold them
	w.inj.SetEnabled(true)
	return w
}

// onLaunch starts the agent process of a new instance; it registers after a boot time.
func (w *world) onLaunch(inst provider.Instance, req provider.LaunchRequest) {
	boot := 20*time.Second + time.Duration(w.rnd.Int64N(int64(70*time.Second)))
	a := &agent{name: inst.AgentName, pool: inst.Pool, instID: inst.ID, once: req.Env["AZP_ONCE"] == "true",
		bootAt: time.Now().Add(boot)}
	if old := w.agents[a.name]; old != nil && old.state != gone {
		w.violate("instance %s launched for agent %s, whose instance %s is still running", inst.ID, a.name, old.instID)
	}
	if _, ok := w.agents[a.name]; !ok {
		w.agentOrder = append(w.agentOrder, a.name)
	}
	w.agents[a.name] = a
	w.checkMax(inst.Pool, "launch of "+inst.ID)
}

// onEnd kills the agent of an instance the controller terminated or the cloud took away.
func (w *world) onEnd(inst provider.Instance, why string, byController bool) {
	if a := w.agents[inst.AgentName]; a != nil && a.instID == inst.ID {
		w.kill(a, why, byController)
	}
}

// maybeRace queues a job, now and then, just before the controller disables an agent: the job
// may be assigned to the very agent being drained, the race the drain protocol must win.
func (w *world) maybeRace(r *http.Request) {
	if r.Method != http.MethodPatch || !strings.Contains(r.URL.Path, "/agents/") || !w.inj.Enabled() {
		return
	}
	if w.rnd.Float64() >= 0.3 {
		return
	}
	parts := strings.Split(r.URL.Path, "/")
	for i, s := range parts {
		if s != "pools" || i+1 >= len(parts) {
			continue
		}
		id, _ := strconv.Atoi(parts[i+1])
		for name, pid := range w.poolIDs {
			if pid == id {
				w.races++
				w.arrive(name)
				return
			}
		}
	}
}

// arrive queues a new job in pool.
func (w *world) arrive(pool string) {
	wk := &work{n: len(w.works) + 1, pool: pool, duration: time.Minute + time.Duration(w.rnd.Int64N(int64(7*time.Minute)))}
	w.works = append(w.works, wk)
	w.queue(wk)
}

func (w *world) queue(wk *work) {
	id, err := w.org.QueueJob(wk.pool, adosim.JobSpec{Demands: []string{demand}, Duration: wk.duration})
	if err != nil {
		w.violate("queue job %d in %s: %v", wk.n, wk.pool, err)
		return
	}
	wk.req, wk.queued = id, time.Now()
	wk.attempts++
	w.byReq[id] = wk
	w.watchCheck(wk)
}

// requeue is a pipeline retry after the job's agent was lost.
func (w *world) requeue(wk *work, why string) {
	w.retried++
	w.logf("job %d queued again: %s", wk.n, why)
	w.queue(wk)
}

// arrivals queues this step's new jobs: a phase of quiet, light or steady load or a burst (more
// than the smallest pool can run) is drawn every 80 steps, so that pools go to max, sit idle and
// scale in.
func (w *world) arrivals(step int) {
	if step%80 == 0 {
		w.arrivalRate = []float64{0, 0.03, 0.08, 0.25}[w.rnd.IntN(4)]
	}
	for _, p := range w.pools {
		if w.rnd.Float64() < w.arrivalRate {
			w.arrive(p.name)
		}
	}
}

// cycle advances the clock one step, moves the agents and lets the leader reconcile every pool
// and answer the checks, checking the invariants after each reconcile.
func (w *world) cycle(step int, jobs bool) {
	time.Sleep(w.step)
	if jobs {
		w.arrivals(step)
	}
	w.stepAgents()
	w.stepPause(jobs)
	r := w.leader()
	for _, p := range w.pools {
		if r != nil {
			if _, err := r.ctrl.ReconcileOnce(r.ctx(), p.name); err != nil {
				w.logf("cycle %d pool %s (%s): %v", step, p.name, r.id, err)
			}
			w.stepAgents() // the controller's actions may have changed what agents must do
		}
		w.checkCycle(p)
	}
	if r != nil {
		if err := r.cb.RunOnce(r.ctx()); err != nil {
			w.logf("cycle %d checks (%s): %v", step, r.id, err)
		}
		w.stepAgents()
	}
	w.checkCallbacks(false)
}

func (w *world) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(w.logs, "%s chaos: %s\n", time.Now().UTC().Format(time.TimeOnly), fmt.Sprintf(format, args...))
}

// violate records a broken invariant. The replicas' guards call it from their own goroutines.
func (w *world) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.logf("VIOLATION %s", msg)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, fmt.Sprintf("[%s] %s", time.Now().UTC().Format(time.TimeOnly), msg))
}

// broken returns the invariants broken so far.
func (w *world) broken() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.violations)
}
