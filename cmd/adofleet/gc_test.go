package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/local"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// The gc fixture: pool "build" of the simulator over HTTP with
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
	f.lp, err = local.New(local.Options{
		Command: []string{exe, "agent-sim"}, WorkDir: filepath.Join(f.h.dir, "agents"),
		Controller: gcController, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = f.lp.Close(cctx)
	})
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

// fault refuses the DELETE of agent failDel, as ADO refuses a call it does not allow.
func (f *gcFixture) fault(r *http.Request) *adosim.Fault {
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
	lp, err := local.New(local.Options{
		Command: []string{"sleep", "3600"}, WorkDir: filepath.Join(f.h.dir, "agents"),
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

// gcResult matches the result a step line ends with.
var gcResult = regexp.MustCompile(`: (done|dry run|failed: .*|kept: .*)$`)

// gcPlan is gc's output reduced to the plan: the step lines without their results, and no
// summary.
func gcPlan(out string) []string {
	var plan []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "gc: ") {
			continue
		}
		plan = append(plan, gcResult.ReplaceAllString(l, ""))
	}
	return plan
}

func TestGCRemovesOnlyWhatItShould(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		args          []string
		election      bool
		gone          []string // agents gc deletes from the pool
		idleTerminate bool     // the idle agent's instance and the orphan instance are terminated
	}{
		{name: "default", gone: []string{gcOff1, gcOff2}, election: true},
		{name: "terminate", args: []string{"--terminate"}, gone: []string{gcOff1, gcOff2, gcIdle}, idleTerminate: true},
		{name: "placeholders", args: []string{"--placeholders"}, gone: []string{gcOff1, gcOff2, gcPlaceholder}},
		{name: "everything", args: []string{"--terminate", "--placeholders", "--pool", "build"}, gone: []string{gcOff1, gcOff2, gcIdle, gcPlaceholder}, idleTerminate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			f := newGCFixture(t, ctx, tt.election)
			all := sortedNames(gcOff1, gcOff2, gcIdle, gcBusy, gcForeign, gcPlaceholder)
			args := append([]string{"gc", "-c", f.cfgPath}, tt.args...)

			dryOut, stderr, err := runCLI(ctx, append(args, "--dry-run")...)
			if err != nil {
				t.Fatalf("gc --dry-run: %v\nstderr:\n%s", err, stderr)
			}
			if got := f.agents(); !cmp.Equal(got, all) {
				t.Errorf("after --dry-run the pool has %v, want all of %v", got, all)
			}
			if !f.alive(t, ctx, gcIdle) {
				t.Error("--dry-run terminated the idle agent's instance")
			}
			if got := f.states(t, ctx); got[gcOff1] != store.StateRegistered {
				t.Errorf("--dry-run changed record %s to %s", gcOff1, got[gcOff1])
			}

			out, stderr, err := runCLI(ctx, args...)
			if err != nil {
				t.Fatalf("gc: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
			}
			if diff := cmp.Diff(gcPlan(out), gcPlan(dryOut)); diff != "" {
				t.Errorf("the dry run's plan differs from the run's (-run +dry):\n%s", diff)
			}
			want := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return slices.Contains(tt.gone, n) })
			if diff := cmp.Diff(want, f.agents()); diff != "" {
				t.Errorf("agents left in the pool (-want +got):\n%s\noutput:\n%s", diff, out)
			}
			if f.agent(gcBusy).AssignedRequest == 0 {
				t.Errorf("the busy agent lost its job")
			}
			if !f.alive(t, ctx, gcBusy) {
				t.Errorf("the busy agent's instance was terminated")
			}
			for _, name := range []string{gcIdle, gcOrphan} {
				if tt.idleTerminate {
					eventually(t, ctx, name+"'s instance ended", func() bool { return !f.alive(t, ctx, name) })
				} else if !f.alive(t, ctx, name) {
					t.Errorf("%s's instance was terminated without --terminate", name)
				}
			}
			states := f.states(t, ctx)
			for _, name := range []string{gcOff1, gcOff2, gcIdle, gcBusy, gcOrphan} {
				want := store.StateRegistered
				switch {
				case slices.Contains(tt.gone, name), name == gcOrphan && tt.idleTerminate:
					want = store.StateGone
				case name == gcOrphan:
					want = store.StateLaunched
				}
				if states[name] != want {
					t.Errorf("record %s is %s, want %s", name, states[name], want)
				}
			}
			if !strings.Contains(out, "left alone 1 agent adofleet did not create") {
				t.Errorf("summary does not count the foreign agent:\n%s", out)
			}
			if !strings.Contains(out, "store: run one housekeeping pass: done") {
				t.Errorf("no housekeeping pass in the output:\n%s", out)
			}
			if strings.Contains(out+stderr+dryOut, gcPAT) {
				t.Error("gc printed the PAT")
			}
			if tt.election {
				// gc released the lease: a controller starting now leads at once.
				st := f.openStore(t, ctx)
				defer st.Close()
				if _, err := st.AcquireLease(ctx, "adofleet-controller", "serve-after-gc", time.Minute, time.Now()); err != nil {
					t.Errorf("acquire the lease after gc: %v", err)
				}
			}
		})
	}
}

// TestGCFailedDeleteExitsOneAndDoesTheRest: ADO refuses one delete; gc reports it, deletes the
// other agent, and exits 1.
func TestGCFailedDeleteExitsOneAndDoesTheRest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newGCFixture(t, ctx, false)
	f.failDel.Store(int64(f.agentID[gcOff1]))
	out, _, err := runCLI(ctx, "gc", "-c", f.cfgPath)
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 1 {
		t.Fatalf("err = %v, want exit code 1\noutput:\n%s", err, out)
	}
	if got, want := f.agents(), sortedNames(gcOff1, gcIdle, gcBusy, gcForeign, gcPlaceholder); !cmp.Equal(got, want) {
		t.Errorf("pool has %v, want %v", got, want)
	}
	if !regexp.MustCompile(`(?m)^build: delete agent ` + gcOff1 + ` \(.*\): failed: .*403`).MatchString(out) {
		t.Errorf("no failed line for %s:\n%s", gcOff1, out)
	}
	states := f.states(t, ctx)
	if got := []store.AgentState{states[gcOff1], states[gcOff2]}; !cmp.Equal(got, []store.AgentState{store.StateRegistered, store.StateGone}) {
		t.Errorf("records %s, %s = %v, want [registered gone]", gcOff1, gcOff2, got)
	}
	if !strings.Contains(out, "1 failed") {
		t.Errorf("summary does not count the failure:\n%s", out)
	}
}

// TestGCRefusesWhileAControllerLeads: with store leader election, a lease held by another
// process makes gc refuse before it changes anything.
func TestGCRefusesWhileAControllerLeads(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newGCFixture(t, ctx, true)
	st := f.openStore(t, ctx)
	if _, err := st.AcquireLease(ctx, "adofleet-controller", "serve-replica-1", time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(ctx, "gc", "-c", f.cfgPath, "--terminate", "--placeholders")
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 1 {
		t.Fatalf("err = %v, want exit code 1", err)
	}
	if !strings.Contains(err.Error(), "serve-replica-1") || !strings.Contains(err.Error(), "stop the controller") {
		t.Errorf("err = %v, want it to name the holder and say to stop the controller", err)
	}
	if got, want := f.agents(), sortedNames(gcOff1, gcOff2, gcIdle, gcBusy, gcForeign, gcPlaceholder); !cmp.Equal(got, want) {
		t.Errorf("pool has %v after a refusal, want every agent %v\noutput:\n%s", got, want, out)
	}
	if !f.alive(t, ctx, gcIdle) {
		t.Error("a refused gc terminated an instance")
	}
}

func TestGCUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	cfg := "organization:\n  url: https://dev.azure.com/x\n  pat: env:ADOFLEET_TEST_UNSET_GC_PAT\nproviders:\n  local:\n    command: [/bin/true]\npools:\n  - name: build\n    provider: local\n    max: 1\n"
	if err := os.WriteFile(good, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("pools: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unknown pool", []string{"gc", "-c", good, "--pool", "build", "--pool", "nosuch"}, `"nosuch"`},
		{"invalid config", []string{"gc", "-c", bad}, "bad.yaml"},
		{"unknown flag", []string{"gc", "-c", good, "--purge"}, "--purge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runCLI(context.Background(), tt.args...)
			var ec exitCodeError
			if !asExit(err, &ec) || ec.code != 2 {
				t.Fatalf("err = %v, want exit code 2", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %v, want it to name %s", err, tt.mention)
			}
		})
	}
}
