package checks_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/adosim/simagents"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/testclock"
)

// The same flow as TestEndToEndHundredChecksWithARestart, with the real controller instead of the
// stand-in: it reads the pending checks (checks.PendingByPool) and the reservations
// (Callbacker.Reserved) as serve wires them, and launches agents through the fake provider, whose
// instances run simulated --once agents.

// ctrlPolicy: one job per agent, room for every check at once. The idle timeout is long so that no
// agent is drained mid-run (a drain races the callbacker for the same idle agent, which the drain
// protocol settles but which makes the agent count depend on timing); the end of the test moves
// the controller's clock past it to scale the pool back to its placeholder.
func ctrlPolicy(max int) scaler.Policy {
	return scaler.Policy{Max: max, IdleTimeout: 10 * time.Minute, RegistrationTimeout: 10 * time.Minute, OneJobPerAgent: true}
}

// agents is the fake provider with one simulated agent per instance (simagents): it outlives the
// fleet's restarts, as cloud instances do.
type agents struct {
	prov *fake.Provider
	// maxLive is the most live instances seen right after a launch.
	maxLive atomic.Int64
}

func newAgents(t *testing.T, org *adosim.Org, clock func() time.Time) *agents {
	a := &agents{prov: fake.New()}
	a.prov.Now = clock
	simagents.Attach(t, a.prov, org, simagents.Options{
		Pool: testPool, PollTimeout: 5 * time.Second, RequireOnce: true,
		OnLaunch: func(inst provider.Instance) {
			for n := int64(a.prov.Running(inst.Pool)); ; {
				if m := a.maxLive.Load(); n <= m || a.maxLive.CompareAndSwap(m, n) {
					break
				}
			}
		},
	})
	return a
}

// ctrlFleet is adofleet's side with the real controller: stores, callbacker, controller and
// handler of one process; restart replaces them all on the same file with the same provider.
type ctrlFleet struct {
	t      *testing.T
	dbPath string
	simURL string
	policy scaler.Policy
	prov   *fake.Provider
	clock  *testclock.Offset
	names  atomic.Int64 // agent names stay unique across restarts

	mu   sync.RWMutex
	st   *sqlite.Store
	reqs *checks.StoreRequests
	ctrl *controller.Controller
	h    http.Handler
	halt func() // stops the controller and the callbacker, each between steps it owns
	gens int
}

func newCtrlFleet(t *testing.T, simURL string, policy scaler.Policy, prov *fake.Provider, clock *testclock.Offset) *ctrlFleet {
	f := &ctrlFleet{t: t, dbPath: filepath.Join(t.TempDir(), "adofleet.db"), simURL: simURL, policy: policy,
		prov: prov, clock: clock}
	f.start()
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.stopLocked()
	})
	return f
}

// start wires one process as cmd/adofleet/checks.go does. The caller holds f.mu or is the constructor.
func (f *ctrlFleet) start() {
	t, ctx := f.t, context.Background()
	p := openChecksProcess(t, f.dbPath, ado.Options{OrgURL: f.simURL, PAT: testPAT, Timeout: 10 * time.Second})
	st, reqs, client, cb := p.st, p.reqs, p.client, p.cb
	ctrl, err := controller.New(controller.Options{
		ControllerID: "e2e", OrgURL: f.simURL, ADO: client, Store: st,
		Providers:  controller.ProviderMap{"fake": f.prov},
		Pools:      []controller.PoolConfig{{Name: testPool, Provider: "fake", Policy: f.policy}},
		AgentToken: func() string { return testPAT },
		Resync:     50 * time.Millisecond,
		Now:        f.clock.Now,
		Demands:    cb.PendingByPool,
		Reserved:   cb.Reserved,
		NameFunc:   func(string) string { return fmt.Sprintf("linux-%03d", f.names.Add(1)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := checks.NewHandler(checks.Options{
		Auth: checks.Auth{Username: testUser, Password: testPass}, Pool: checks.PoolSet(testPool), Requests: reqs,
		Wake: func(pool string) { ctrl.Wake(pool); cb.Nudge() },
	})
	if err != nil {
		t.Fatal(err)
	}
	// Run's context cancels a cycle mid-way (a crash the controller's intents repair); the
	// callbacker's Run returns only between rounds, as serve relies on.
	ctrlCtx, stopCtrl := context.WithCancel(ctx)
	cbCtx, stopCB := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = ctrl.Run(ctrlCtx) })
	wg.Go(func() { _ = cb.Run(cbCtx, 20*time.Millisecond) })
	f.st, f.reqs, f.ctrl, f.h = st, reqs, ctrl, h
	f.halt = func() { stopCtrl(); stopCB(); wg.Wait() }
	f.gens++
}

func (f *ctrlFleet) stopLocked() {
	f.halt()
	closeStore(f.t, f.st)
}

// restart stops the process and starts a new one on the same file; check calls meanwhile wait.
func (f *ctrlFleet) restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopLocked()
	f.start()
}

func (f *ctrlFleet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	f.h.ServeHTTP(w, r)
}

func (f *ctrlFleet) pendingCount() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p, err := f.reqs.Pending(context.Background(), "")
	if err != nil {
		f.t.Errorf("pending: %v", err)
	}
	return len(p)
}

func TestControllerEndToEndHundredChecksWithARestart(t *testing.T) {
	t.Parallel()
	const jobs = 100
	org, run := startCheckedSim(t, 11)

	clock := &testclock.Offset{} // the controller's: the test moves it forward at the end
	ag := newAgents(t, org, clock.Now)
	policy := ctrlPolicy(jobs)
	f := newCtrlFleet(t, run.URL, policy, ag.prov, clock)
	okCalls := serveCheckEndpoint(t, org, f)
	// The controller's first cycle registers the placeholder; a job released before it exists
	// would be failed by ADO for want of agents (the check holds every job until an agent is up).
	placeholder := controller.PlaceholderName(testPool)
	waitFor(t, "the placeholder", func() bool {
		for _, a := range org.Agents(testPool) {
			if a.Name == placeholder {
				return true
			}
		}
		return false
	})

	ids := queueJobs(t, org, jobs)
	restartMidway(t, org, ids, f.restart)
	waitJobsFinished(t, org, ids, func() string {
		return fmt.Sprintf("instances %d (running %d), agents by state %v, pending %d",
			len(ag.prov.Instances()), ag.prov.Running(testPool), org.AgentsByState(testPool), f.pendingCount())
	})

	// Every job ran once and succeeded, released by exactly one succeeded callback.
	checkReleasedOnce(t, org, ids, okCalls)
	// The request is marked done just after its callback is posted, so the job may finish first.
	if !poll(func() bool { return f.pendingCount() == 0 }) {
		t.Errorf("pending checks after the run: got %d, want 0", f.pendingCount())
	}

	// Exactly one instance per check, never more live at once than Max. (Callbacker.PendingByPool
	// stops counting a check once its completion begins: between the post and the done mark its
	// job is already queued in ADO, and counting both launched one agent too many.)
	insts := ag.prov.Instances()
	if len(insts) != jobs {
		t.Errorf("instances launched: got %d, want %d, one per check", len(insts), jobs)
	}
	if got := ag.maxLive.Load(); got > int64(policy.Max) {
		t.Errorf("live instances at a launch: got up to %d, want at most max %d", got, policy.Max)
	}
	t.Logf("instances launched: %d for %d checks", len(insts), jobs)

	// No agent ran two jobs (the controller deletes finished agents meanwhile, so the jobs name
	// their agents rather than the pool listing them).
	ranBy := map[int]int64{}
	for _, id := range ids {
		j, _ := org.Job(id)
		if prev, twice := ranBy[j.AgentID]; twice {
			t.Errorf("agent %d ran jobs %d and %d, want one job per agent", j.AgentID, prev, id)
		}
		ranBy[j.AgentID] = id
	}

	// Past the idle timeout and the new-agent grace, the controller scales the pool back to its
	// placeholder: finished agents are deleted, and any agent left idle would be drained.
	clock.Advance(time.Hour)
	f.mu.RLock()
	ctrl := f.ctrl
	f.mu.RUnlock()
	if !poll(func() bool {
		if _, err := ctrl.ReconcileOnce(context.Background(), testPool); err != nil {
			t.Logf("reconcile: %v", err)
		}
		as := org.Agents(testPool)
		return len(as) == 1 && as[0].Name == placeholder && ag.prov.Running(testPool) == 0
	}) {
		t.Errorf("pool after the run: agents %v, running instances %d; want only the placeholder",
			org.AgentsByState(testPool), ag.prov.Running(testPool))
	}
	if f.gens != 2 {
		t.Errorf("process generations: got %d, want 2", f.gens)
	}
}
