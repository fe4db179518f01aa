package controller_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/adosim/simagents"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/testclock"
)

const (
	testPool = "linux"
	testPAT  = "test-pat-0123456789"
	// testDemand is what the test jobs demand and the pool's agents offer.
	testDemand = "docker"
)

// testPolicy is a small pool: one job per agent, quick to scale in.
func testPolicy() scaler.Policy {
	return scaler.Policy{
		Min:                 0,
		Max:                 3,
		IdleTimeout:         time.Millisecond,
		RegistrationTimeout: 10 * time.Minute,
		OneJobPerAgent:      true,
		Capabilities:        map[string]string{testDemand: "true"},
	}
}

// harness is the real stack around one controller: the ADO simulator over HTTP, the real ADO
// client, a SQLite file and the fake provider. Its clock is the controller's: a test moves it
// forward so that the controller sees ADO's and the provider's timestamps age without the
// simulator's own timeouts (sessions, locks) firing.
type harness struct {
	t      *testing.T
	ctx    context.Context
	clock  *testclock.Offset
	org    *adosim.Org
	sim    *adosim.Server
	url    string
	client *ado.Client
	ado    *hookADO
	prov   *fake.Provider
	dbPath string
	store  store.Store
	policy scaler.Policy
	names  atomic.Int64
	// live counts the pool's live instances for the Max check (default: the fake's).
	live func() int
}

// newHarness builds the stack. With runAgents, every instance the fake provider launches runs a
// simulated agent with the environment the controller gave it; the instance ends when the agent
// exits, and a Terminate cancels the agent.
func newHarness(t *testing.T, policy scaler.Policy, runAgents bool) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		ctx:    t.Context(),
		clock:  &testclock.Offset{},
		policy: policy,
		prov:   fake.New(),
		dbPath: filepath.Join(t.TempDir(), "adofleet.db"),
	}
	h.org = adosim.NewOrg(adosim.OrgOptions{})
	if _, err := h.org.AddPool(testPool); err != nil {
		t.Fatalf("AddPool: %v", err)
	}
	h.sim = adosim.NewServer(h.org, adosim.ServerOptions{PAT: testPAT, MessagePollTimeout: 200 * time.Millisecond})
	run, err := h.sim.Start("")
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = run.Close() }) // registered first: runs after the agents have stopped
	h.url = run.URL
	client, err := ado.New(ado.Options{OrgURL: run.URL, PAT: testPAT, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("ado.New: %v", err)
	}
	h.client = client
	h.ado = &hookADO{ADO: client}
	h.store = h.openStore()
	h.prov.Now = h.clock.Now
	h.live = func() int { return h.prov.Running(testPool) }
	if runAgents {
		simagents.Attach(t, h.prov, h.org, simagents.Options{Pool: testPool})
	}
	return h
}

func (h *harness) openStore() store.Store {
	h.t.Helper()
	st, err := sqlite.Open(h.ctx, h.dbPath, sqlite.Options{})
	if err != nil {
		h.t.Fatalf("sqlite.Open: %v", err)
	}
	h.t.Cleanup(func() { _ = st.Close() })
	return st
}

// options are the controller options over the harness; prov replaces the fake when not nil.
func (h *harness) options(prov provider.Provider) controller.Options {
	if prov == nil {
		prov = h.prov
	}
	return controller.Options{
		ControllerID: "test",
		OrgURL:       h.url,
		ADO:          h.ado,
		Providers:    controller.ProviderMap{"fake": prov},
		Store:        h.store,
		Pools: []controller.PoolConfig{{
			Name: testPool, Provider: "fake", Policy: h.policy,
			Env: map[string]string{"EXTRA": "from-pool"},
		}},
		AgentToken: func() string { return testPAT },
		Now:        h.clock.Now,
		Logger:     slog.New(slog.DiscardHandler),
		NameFunc:   func(string) string { return fmt.Sprintf("linux-%03d", h.names.Add(1)) },
	}
}

func (h *harness) newController(opts controller.Options) *controller.Controller {
	h.t.Helper()
	c, err := controller.New(opts)
	if err != nil {
		h.t.Fatalf("controller.New: %v", err)
	}
	return c
}

// queue queues n jobs that the pool's agents can run, each taking d.
func (h *harness) queue(n int, d time.Duration) []int64 {
	h.t.Helper()
	var ids []int64
	for range n {
		id, err := h.org.QueueJob(testPool, adosim.JobSpec{Demands: []string{testDemand}, Duration: d})
		if err != nil {
			h.t.Fatalf("QueueJob: %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}

// reconcile runs one cycle and checks the Max invariant right after it.
func (h *harness) reconcile(c *controller.Controller) controller.Result {
	h.t.Helper()
	res, err := c.ReconcileOnce(h.ctx, testPool)
	if err != nil {
		h.t.Logf("reconcile: %v", err)
	}
	h.checkMax()
	return res
}

// checkMax: live instances plus launches not yet listed never exceed Max.
func (h *harness) checkMax() {
	h.t.Helper()
	launching, err := h.store.ListAgents(h.ctx, testPool, store.StateLaunching)
	if err != nil {
		h.t.Fatalf("ListAgents: %v", err)
	}
	live := h.live()
	if got := live + len(launching); got > h.policy.Max {
		h.t.Fatalf("live instances %d + launching %d = %d, above max %d", live, len(launching), got, h.policy.Max)
	}
}

// records returns the pool's store records by name.
func (h *harness) records() map[string]store.AgentRecord {
	h.t.Helper()
	recs, err := h.store.ListAgents(h.ctx, testPool)
	if err != nil {
		h.t.Fatalf("ListAgents: %v", err)
	}
	out := map[string]store.AgentRecord{}
	for _, r := range recs {
		out[r.Name] = r
	}
	return out
}

// agentNames returns the names of the pool's agents in the simulator.
func (h *harness) agentNames() []string {
	var out []string
	for _, a := range h.org.Agents(testPool) {
		out = append(out, a.Name)
	}
	return out
}

// decisions returns the pool's decisions, oldest first.
func (h *harness) decisions() []store.Decision {
	h.t.Helper()
	ds, err := h.store.ListDecisions(h.ctx, testPool, 1000)
	if err != nil {
		h.t.Fatalf("ListDecisions: %v", err)
	}
	out := make([]store.Decision, len(ds))
	for i, d := range ds {
		out[len(ds)-1-i] = d
	}
	return out
}

// actions counts the pool's decisions by action.
func (h *harness) actions() map[string]int {
	out := map[string]int{}
	for _, d := range h.decisions() {
		out[d.Action]++
	}
	return out
}

// until runs cycles until done reports true, failing after limit cycles. Between cycles it lets
// the simulated agents make progress (a short pause; nothing is asserted about durations).
func (h *harness) until(c *controller.Controller, limit int, done func() bool) {
	h.t.Helper()
	for range limit {
		h.reconcile(c)
		if done() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("condition not reached after %d cycles; agents %v, jobs %+v", limit, h.agentNames(), h.org.Jobs())
}

// hookADO wraps the real client so a test can act between the controller's calls: beforeDisable
// runs once, just before the next disable is sent (to make ADO assign a job in the window the
// drain protocol guards); listed receives a value after each job-request list (one per cycle);
// editJobs, if set, changes each job-request list before the controller sees it. It counts the
// agent lists by kind: lean (ListAgentsWith, as each cycle asks) and full (ListAgents).
type hookADO struct {
	controller.ADO
	mu            sync.Mutex
	beforeDisable func(agentID int)
	listed        chan struct{}
	editJobs      func([]ado.JobRequest) []ado.JobRequest
	lean, full    int
}

// ListAgentsWith forwards to the client, as the controller calls it on *ado.Client.
func (h *hookADO) ListAgentsWith(ctx context.Context, poolID int, o ado.AgentListOptions) ([]ado.Agent, error) {
	h.mu.Lock()
	h.lean++
	h.mu.Unlock()
	return h.ADO.(*ado.Client).ListAgentsWith(ctx, poolID, o)
}

func (h *hookADO) ListAgents(ctx context.Context, poolID int) ([]ado.Agent, error) {
	h.mu.Lock()
	h.full++
	h.mu.Unlock()
	return h.ADO.ListAgents(ctx, poolID)
}

// agentLists returns how many lean and full agent lists were sent, and resets the counts.
func (h *hookADO) agentLists() (lean, full int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	lean, full, h.lean, h.full = h.lean, h.full, 0, 0
	return lean, full
}

func (h *hookADO) SetAgentEnabled(ctx context.Context, poolID, agentID int, enabled bool) (ado.Agent, error) {
	h.mu.Lock()
	f := h.beforeDisable
	if !enabled {
		h.beforeDisable = nil
	}
	h.mu.Unlock()
	if f != nil && !enabled {
		f(agentID)
	}
	return h.ADO.SetAgentEnabled(ctx, poolID, agentID, enabled)
}

func (h *hookADO) ListJobRequests(ctx context.Context, poolID int) ([]ado.JobRequest, error) {
	jobs, err := h.ADO.ListJobRequests(ctx, poolID)
	h.mu.Lock()
	ch, edit := h.listed, h.editJobs
	h.mu.Unlock()
	if edit != nil && err == nil {
		jobs = edit(jobs)
	}
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return jobs, err
}

// blockingProvider wraps a provider whose Launch never returns until ctx ends: the process
// "crashes" mid-launch. With startFirst, the wrapped provider starts the instances first (the
// crash comes after Launch but before its result is recorded); otherwise it is never called.
type blockingProvider struct {
	provider.Provider
	startFirst bool
	entered    chan struct{}
}

func (b *blockingProvider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	if b.startFirst {
		if _, err := b.Provider.Launch(ctx, req); err != nil {
			return nil, err
		}
	}
	close(b.entered)
	<-ctx.Done()
	return nil, fmt.Errorf("blocked launch: %w", ctx.Err())
}

var errBoom = errors.New("boom")
