package fleetops

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

const applyPAT = "fleetops-test-pat-0123456789"

// applyFixture is pool "build" of the ADO simulator over HTTP, with the real ADO client, a
// SQLite file and the fake provider.
type applyFixture struct {
	org    *adosim.Org
	url    string
	client *ado.Client
	st     store.Store
	prov   *fake.Provider
	now    time.Time
}

func newApplyFixture(t *testing.T) *applyFixture {
	t.Helper()
	f := &applyFixture{org: adosim.NewOrg(adosim.OrgOptions{}), prov: fake.New(), now: time.Now().UTC()}
	if _, err := f.org.AddPool(worldPool); err != nil {
		t.Fatal(err)
	}
	run, err := adosim.NewServer(f.org, adosim.ServerOptions{PAT: applyPAT, MessagePollTimeout: 200 * time.Millisecond}).Start("")
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = run.Close() })
	f.url = run.URL
	if f.client, err = ado.New(ado.Options{OrgURL: run.URL, PAT: applyPAT, Timeout: 10 * time.Second}); err != nil {
		t.Fatalf("ado.New: %v", err)
	}
	if f.st, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "adofleet.db"), sqlite.Options{}); err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = f.st.Close() })
	return f
}

// record stores a record of agent name on instanceID.
func (f *applyFixture) record(t *testing.T, name string, st store.AgentState, instanceID string) {
	t.Helper()
	r := store.AgentRecord{Name: name, Pool: worldPool, State: st, InstanceID: instanceID, CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.st.CreateAgent(t.Context(), r); err != nil {
		t.Fatal(err)
	}
}

// launch starts an instance of ours for agent name and returns its id.
func (f *applyFixture) launch(t *testing.T, name string) string {
	t.Helper()
	insts, err := f.prov.Launch(t.Context(), provider.LaunchRequest{Pool: worldPool, Agents: []provider.AgentSpec{{Name: name}},
		Tags: provider.TagsFor(worldPool, worldController, "", "")})
	if err != nil {
		t.Fatal(err)
	}
	return insts[0].ID
}

// plan observes the pool and returns the step for target.
func (f *applyFixture) plan(t *testing.T, o GCOptions, target string) (*PoolView, Step) {
	t.Helper()
	v, err := Observe(t.Context(), Deps{ADO: f.client, Provider: f.prov, Store: f.st, ControllerID: worldController}, worldPool)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	for _, s := range PlanGC(v, o).Steps {
		if s.Target == target {
			return v, s
		}
	}
	t.Fatalf("no step for %s", target)
	return nil, Step{}
}

func (f *applyFixture) deps() GCDeps {
	return GCDeps{ADO: f.client, Provider: f.prov, Store: f.st, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return f.now }}
}

// agent returns the simulator's agent called name (ok false when it is not in the pool).
func (f *applyFixture) agent(name string) (adosim.AgentInfo, bool) {
	for _, a := range f.org.Agents(worldPool) {
		if a.Name == name {
			return a, true
		}
	}
	return adosim.AgentInfo{}, false
}

// wait polls cond until it holds or the test's context ends.
func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatalf("gave up waiting: %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestApplyStepRemoves: each removing step kind does its calls, marks its record gone with the
// reason and appends the controller's decision.
func TestApplyStepRemoves(t *testing.T) {
	t.Parallel()
	f := newApplyFixture(t)
	if _, err := f.org.AddAgent(worldPool, adosim.AgentSpec{Name: "build-off"}); err != nil {
		t.Fatal(err)
	}
	f.record(t, "build-off", store.StateRegistered, "")
	offinst := f.launch(t, "build-offinst")
	if _, err := f.org.AddAgent(worldPool, adosim.AgentSpec{Name: "build-offinst"}); err != nil {
		t.Fatal(err)
	}
	orphan := f.launch(t, "build-orph")
	f.record(t, "build-orph", store.StateLaunched, orphan)
	ph := worldPlaceholder
	if _, err := f.org.AddAgent(worldPool, adosim.AgentSpec{Name: ph}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		target     string
		kind       StepKind
		agentGone  string // the agent no longer in the pool
		terminated string // the instance terminated
		record     string // the record now gone ("" none)
		decision   store.Decision
	}{
		{target: "agent build-off", kind: StepDeleteAgent, agentGone: "build-off", record: "build-off",
			decision: store.Decision{Action: scaler.ActionDelete, Target: "build-off", Reason: "adofleet gc: offline, no instance"}},
		{target: "agent build-offinst", kind: StepRemoveAgent, agentGone: "build-offinst", terminated: offinst,
			decision: store.Decision{Action: scaler.ActionDelete, Target: "build-offinst", Reason: "adofleet gc: offline and its instance still runs, --terminate"}},
		{target: "instance " + orphan, kind: StepTerminate, terminated: orphan, record: "build-orph",
			decision: store.Decision{Action: scaler.ActionTerminate, Target: orphan, Reason: `adofleet gc: agent "build-orph" is not in the pool, --terminate`}},
		{target: "placeholder " + ph, kind: StepDeletePlaceholder, agentGone: ph,
			decision: store.Decision{Action: scaler.ActionDelete, Target: ph, Reason: "adofleet gc: --placeholders: ADO fails jobs queued in a pool with no agents until serve registers it again"}},
	}
	// In order, each on a fresh observation: the same path as adofleet gc --apply.
	for _, tt := range tests {
		v, s := f.plan(t, GCOptions{Terminate: true, Placeholders: true}, tt.target)
		if s.Kind != tt.kind {
			t.Fatalf("%s: kind %d, want %d", tt.target, s.Kind, tt.kind)
		}
		if r := ApplyStep(t.Context(), f.deps(), v, s); r.Err != nil || r.Kept != "" || r.RecordErr != nil {
			t.Fatalf("%s: ApplyStep = %+v, want done", tt.target, r)
		}
		if _, ok := f.agent(tt.agentGone); tt.agentGone != "" && ok {
			t.Errorf("%s: agent %s is still in the pool", tt.target, tt.agentGone)
		}
		if tt.terminated != "" && !cmp.Equal(f.prov.TerminatedIDs()[len(f.prov.TerminatedIDs())-1:], []string{tt.terminated}) {
			t.Errorf("%s: terminated %v, want %s last", tt.target, f.prov.TerminatedIDs(), tt.terminated)
		}
		if tt.record != "" {
			rec, err := f.st.GetAgent(t.Context(), tt.record)
			if err != nil {
				t.Fatal(err)
			}
			if rec.State != store.StateGone || rec.Reason != tt.decision.Reason {
				t.Errorf("%s: record %s is %s (%q), want gone (%q)", tt.target, tt.record, rec.State, rec.Reason, tt.decision.Reason)
			}
		}
		ds, err := f.st.ListDecisions(t.Context(), worldPool, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := tt.decision
		want.Pool = worldPool
		if len(ds) != 1 || !cmp.Equal(store.Decision{Pool: ds[0].Pool, Action: ds[0].Action, Target: ds[0].Target, Reason: ds[0].Reason}, want) {
			t.Errorf("%s: newest decision %+v, want %+v", tt.target, ds, want)
		}
	}
}

// TestApplyStepKeepsAnAgentThatTookAJob: the plan saw an idle agent; by the time gc acts it runs
// a job. The drain protocol's re-read catches it: the agent is enabled again and kept, and its
// record is left alone.
func TestApplyStepKeepsAnAgentThatTookAJob(t *testing.T) {
	t.Parallel()
	f := newApplyFixture(t)
	const name = "build-idle"
	f.record(t, name, store.StateRegistered, "")
	ctx, stop := context.WithCancel(t.Context())
	agentDone := make(chan error, 1)
	go func() {
		agentDone <- adosim.RunAgent(ctx, adosim.AgentOptions{URL: f.url, Token: applyPAT, Pool: worldPool, Name: name,
			PollTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-agentDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("agent: %v", err)
		}
	})
	wait(t, "the agent is online", func() bool { a, _ := f.agent(name); return a.Online })

	v, s := f.plan(t, GCOptions{Terminate: true}, "agent "+name)
	if s.Kind != StepRemoveAgent {
		t.Fatalf("kind %d, want StepRemoveAgent", s.Kind)
	}
	job, err := f.org.QueueJob(worldPool, adosim.JobSpec{Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, "the agent has the job", func() bool { a, _ := f.agent(name); return a.AssignedRequest == job })

	r := ApplyStep(t.Context(), f.deps(), v, s)
	if r.Err != nil || r.RecordErr != nil || !strings.Contains(r.Kept, "took job request") {
		t.Fatalf("ApplyStep = %+v, want kept because it took a job", r)
	}
	a, ok := f.agent(name)
	if !ok || !a.Enabled || a.AssignedRequest != job {
		t.Errorf("agent after gc: in pool %t, enabled %t, job %d; want in the pool, enabled, running %d", ok, a.Enabled, a.AssignedRequest, job)
	}
	rec, err := f.st.GetAgent(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != store.StateRegistered {
		t.Errorf("record is %s, want registered", rec.State)
	}
	if ds, err := f.st.ListDecisions(t.Context(), worldPool, 0); err != nil || len(ds) != 0 {
		t.Errorf("decisions = %v (err %v), want none", ds, err)
	}
}

// TestApplyStepClosesALostRecord: a record whose agent and instance are both gone is marked gone
// with gc's reason; nothing is called outside the store and no decision is appended, since
// nothing was removed.
func TestApplyStepClosesALostRecord(t *testing.T) {
	t.Parallel()
	f := newApplyFixture(t)
	f.record(t, "build-lost", store.StateRegistered, "i-long-gone")
	v, s := f.plan(t, GCOptions{}, "record build-lost")
	if s.Kind != StepCloseRecord {
		t.Fatalf("step kind %d, want StepCloseRecord", s.Kind)
	}
	r := ApplyStep(t.Context(), f.deps(), v, s)
	if r.Err != nil || r.RecordErr != nil || r.Kept != "" {
		t.Fatalf("ApplyStep = %+v, want done", r)
	}
	rec, err := f.st.GetAgent(t.Context(), "build-lost")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != store.StateGone || !strings.HasPrefix(rec.Reason, "adofleet gc: ") {
		t.Errorf("record after the step: %s %q, want gone with gc's reason", rec.State, rec.Reason)
	}
	ds, err := f.st.ListDecisions(t.Context(), worldPool, 10)
	if err != nil || len(ds) != 0 {
		t.Errorf("decisions after closing a record: %+v, %v; want none", ds, err)
	}
}
