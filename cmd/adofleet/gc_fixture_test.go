package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/local"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// The gc fixture (status_test.go builds on it too): pool "build" of the simulator over HTTP with
//   - two offline agents adofleet created (store records, no instance): gcOff1, gcOff2;
//   - an online idle agent adofleet launched (a local agent-sim process): gcIdle;
//   - an agent adofleet launched that runs a long job: gcBusy;
//   - an offline agent adofleet did not create: gcForeign;
//   - the placeholder agent;
//   - an instance adofleet launched whose agent never registered (a sleep): gcOrphan.
const (
	gcPAT        = "gc-test-pat-0123456789abcdef"
	gcController = "gc-test"
	gcOff1       = "build-off00001"
	gcOff2       = "build-off00002"
	gcIdle       = "build-idle0001"
	gcBusy       = "build-busy0001"
	gcForeign    = "someone-elses-agent"
	gcOrphan     = "build-orph0001"
)

var gcPlaceholder = controller.PlaceholderName("build")

type gcFixture struct {
	h       *simHarness
	cfgPath string
	lp      *local.Provider // launched the fixture's agents; gc adopts them from the work dir
	inst    map[string]string
	agentID map[string]int
	orphan  *local.Provider // ran the orphan instance
	failDel atomic.Int64    // an agent id whose DELETE the simulator refuses (0: none)
	// failPool is a pool id whose agent list the simulator refuses (0: none).
	failPool atomic.Int64
	// statusCalls are the requests adofleet status made ("METHOD path"), told by its User-Agent.
	statusMu    sync.Mutex
	statusCalls []string
}

// newGCFixture builds the pool above; leaderElection adds a store-backed election to the config.
func newGCFixture(t *testing.T, ctx context.Context, leaderElection bool) *gcFixture {
	t.Helper()
	f := &gcFixture{inst: map[string]string{}, agentID: map[string]int{}}
	f.h = newSimHarness(t, "build", adosim.ServerOptions{PAT: gcPAT, MessagePollTimeout: time.Second, Faults: f.fault})
	patFile := filepath.Join(f.h.dir, "pat")
	if err := os.WriteFile(patFile, []byte(gcPAT), 0o600); err != nil {
		t.Fatal(err)
	}
	election := ""
	if leaderElection {
		election = "  leaderElection:\n    enabled: true\n    backend: store\n"
	}
	f.cfgPath = f.h.writeConfig(t, `organization:
  url: {sim}
  pat: file:{pat}
controller:
  id: `+gcController+`
  logLevel: warn
{election}store:
  sqlite:
    path: {state}
{localAgents}
pools:
  - name: build
    provider: local
    max: 4
  - name: other
    provider: local
    max: 1
`, "{pat}", patFile, "{election}", election)

	for _, name := range []string{gcOff1, gcOff2, gcForeign, gcPlaceholder} {
		id, err := f.h.org.AddAgent("build", adosim.AgentSpec{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		f.agentID[name] = id
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f.lp = f.localProvider(t, exe, "agent-sim")
	// The busy agent first, alone, so that it is the one that takes the job.
	f.launch(t, ctx, gcBusy)
	if _, err := f.h.org.QueueJob("build", adosim.JobSpec{Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, gcBusy+" busy", func() bool { return f.agent(gcBusy).AssignedRequest != 0 })
	f.launch(t, ctx, gcIdle)
	f.launchOrphan(t, ctx)
	f.seedRecords(t, ctx)
	return f
}

// fault refuses the DELETE of agent failDel and the agent list of pool failPool, as ADO refuses a
// call it does not allow, and records status's requests.
func (f *gcFixture) fault(r *http.Request) *adosim.Fault {
	if strings.Contains(r.UserAgent(), "(status)") {
		f.statusMu.Lock()
		f.statusCalls = append(f.statusCalls, r.Method+" "+r.URL.Path)
		f.statusMu.Unlock()
	}
	if id := f.failPool.Load(); id != 0 && strings.HasSuffix(r.URL.Path, fmt.Sprintf("/pools/%d/agents", id)) {
		return &adosim.Fault{Status: http.StatusForbidden, Message: "Access denied: the test refuses this pool"}
	}
	id := f.failDel.Load()
	if id != 0 && r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, fmt.Sprintf("/agents/%d", id)) {
		return &adosim.Fault{Status: http.StatusForbidden, Message: "Access denied: the test refuses this delete"}
	}
	return nil
}

// launch starts one long-lived agent through the local provider and waits until it is online.
func (f *gcFixture) launch(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	insts, err := f.lp.Launch(ctx, provider.LaunchRequest{
		Token: "gc-" + name, Pool: "build", Agents: []provider.AgentSpec{{Name: name}},
		Tags: map[string]string{provider.TagPool: "build", provider.TagController: gcController, provider.TagAgent: name},
		Env:  map[string]string{"AZP_URL": f.h.sim.URL, "AZP_TOKEN": gcPAT, "AZP_POOL": "build", "AZP_AGENT_NAME": name},
	})
	if err != nil || len(insts) != 1 {
		t.Fatalf("launch %s: %v (%d instances)", name, err, len(insts))
	}
	f.inst[name] = insts[0].ID
	eventually(t, ctx, name+" online", func() bool { return f.agent(name).Online })
	f.agentID[name] = f.agent(name).ID
}

// launchOrphan starts an instance, tagged as adofleet's, that never registers an agent. A second
// local provider on the same work directory runs it, as a controller's earlier run would have.
func (f *gcFixture) launchOrphan(t *testing.T, ctx context.Context) {
	t.Helper()
	lp := f.localProvider(t, "sleep", "3600")
	insts, err := lp.Launch(ctx, provider.LaunchRequest{
		Token: "gc-" + gcOrphan, Pool: "build", Agents: []provider.AgentSpec{{Name: gcOrphan}},
		Tags: map[string]string{provider.TagPool: "build", provider.TagController: gcController, provider.TagAgent: gcOrphan},
	})
	if err != nil || len(insts) != 1 {
		t.Fatalf("launch %s: %v (%d instances)", gcOrphan, err, len(insts))
	}
	f.inst[gcOrphan] = insts[0].ID
	f.orphan = lp
}

// seedRecords writes the store records of the agents adofleet created.
func (f *gcFixture) seedRecords(t *testing.T, ctx context.Context) {
	t.Helper()
	st := f.openStore(t, ctx)
	defer st.Close()
	now := time.Now().UTC()
	for _, name := range []string{gcOff1, gcOff2, gcIdle, gcBusy, gcOrphan} {
		rec := store.AgentRecord{Name: name, Pool: "build", State: store.StateRegistered, InstanceID: f.inst[name],
			AgentID: f.agentID[name], CreatedAt: now, UpdatedAt: now, RegisteredAt: now}
		if name == gcOrphan {
			rec.State, rec.AgentID, rec.RegisteredAt = store.StateLaunched, 0, time.Time{}
		}
		if err := st.CreateAgent(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *gcFixture) openStore(t *testing.T, ctx context.Context) store.Store {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(f.h.dir, "state.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// agent returns the simulator's view of the agent called name (zero if it is not in the pool).
func (f *gcFixture) agent(name string) adosim.AgentInfo {
	for _, a := range f.h.org.Agents("build") {
		if a.Name == name {
			return a
		}
	}
	return adosim.AgentInfo{}
}

// agents returns the names of the pool's agents, sorted.
func (f *gcFixture) agents() []string {
	var out []string
	for _, a := range f.h.org.Agents("build") {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

// states returns each record's state.
func (f *gcFixture) states(t *testing.T, ctx context.Context) map[string]store.AgentState {
	t.Helper()
	st := f.openStore(t, ctx)
	defer st.Close()
	recs, err := st.ListAgents(ctx, "build")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.AgentState{}
	for _, r := range recs {
		out[r.Name] = r.State
	}
	return out
}

// alive reports whether the local instance launched for agent name still runs.
func (f *gcFixture) alive(t *testing.T, ctx context.Context, name string) bool {
	t.Helper()
	lp := f.lp
	if name == gcOrphan {
		lp = f.orphan
	}
	insts, err := lp.List(ctx, "build")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insts {
		if in.ID == f.inst[name] {
			return in.State.Alive()
		}
	}
	return false
}

// eventually polls cond until it holds; the test fails when ctx ends first.
func eventually(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func sortedNames(names ...string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return out
}

// localProvider is a local provider running command on the fixture's work directory, as the
// controller's does; it is closed when the test ends.
func (f *gcFixture) localProvider(t *testing.T, command ...string) *local.Provider {
	t.Helper()
	lp, err := local.New(local.Options{
		Command: command, WorkDir: filepath.Join(f.h.dir, "agents"),
		Controller: gcController, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = lp.Close(cctx)
	})
	return lp
}
