package fleetops

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// stepKey is a step reduced to what the plan decides.
type stepKey struct {
	Kind           StepKind
	Target, Verb   string
	Agent, Inst    string
	Record, Reason string
}

func stepKeys(steps []Step) []stepKey {
	var out []stepKey
	for _, s := range steps {
		k := stepKey{Kind: s.Kind, Target: s.Target, Verb: s.Verb(), Reason: s.Reason}
		if s.Agent != nil {
			k.Agent = s.Agent.Name
		}
		if s.Inst != nil {
			k.Inst = s.Inst.ID
		}
		if s.Record != nil {
			k.Record = s.Record.Name
		}
		out = append(out, k)
	}
	return out
}

func TestPlanGC(t *testing.T) {
	t.Parallel()
	ph := "placeholder " + worldPlaceholder
	// The steps every option set plans alike.
	var (
		busy    = stepKey{Kind: StepKeep, Target: "agent build-busy", Verb: "keep", Inst: "i-busy", Reason: "busy with job request 41"}
		res     = stepKey{Kind: StepKeep, Target: "agent build-res", Verb: "keep", Inst: "i-res", Reason: "busy with job request 42"}
		off     = stepKey{Kind: StepDeleteAgent, Target: "agent build-off", Verb: "delete", Agent: "build-off", Record: "build-off", Reason: "offline, no instance"}
		keepPH  = stepKey{Kind: StepKeep, Target: ph, Verb: "keep", Reason: "keeps ADO from failing queued jobs; --placeholders removes it"}
		lost    = stepKey{Kind: StepCloseRecord, Target: "record build-lost", Verb: "mark gone", Record: "build-lost", Reason: "its agent is not in the pool and its instance is gone"}
		dropPH  = stepKey{Kind: StepDeletePlaceholder, Target: ph, Verb: "delete", Agent: worldPlaceholder, Reason: "--placeholders: ADO fails jobs queued in a pool with no agents until serve registers it again"}
		keepAll = []stepKey{
			busy,
			{Kind: StepKeep, Target: "agent build-drain", Verb: "keep", Agent: "build-drain", Inst: "i-drain", Reason: "online and idle; --terminate removes it"},
			{Kind: StepKeep, Target: "agent build-idle", Verb: "keep", Agent: "build-idle", Inst: "i-idle", Record: "build-idle", Reason: "online and idle; --terminate removes it"},
			off,
			{Kind: StepKeep, Target: "agent build-offinst", Verb: "keep", Agent: "build-offinst", Inst: "i-offinst", Record: "build-offinst", Reason: "offline, but instance i-offinst still runs; --terminate removes both"},
			res,
			{Kind: StepKeep, Target: "instance i-orphan", Verb: "keep", Inst: "i-orphan", Reason: `agent "build-orph" is not in the pool; --terminate removes it`},
		}
		terminateAll = []stepKey{
			busy,
			{Kind: StepRemoveAgent, Target: "agent build-drain", Verb: "terminate instance i-drain and delete", Agent: "build-drain", Inst: "i-drain", Reason: "online and idle, --terminate"},
			{Kind: StepRemoveAgent, Target: "agent build-idle", Verb: "terminate instance i-idle and delete", Agent: "build-idle", Inst: "i-idle", Record: "build-idle", Reason: "online and idle, --terminate"},
			off,
			{Kind: StepRemoveAgent, Target: "agent build-offinst", Verb: "terminate instance i-offinst and delete", Agent: "build-offinst", Inst: "i-offinst", Record: "build-offinst", Reason: "offline and its instance still runs, --terminate"},
			res,
			{Kind: StepTerminate, Target: "instance i-orphan", Verb: "terminate", Inst: "i-orphan", Record: "build-orph", Reason: `agent "build-orph" is not in the pool, --terminate`},
		}
	)
	tests := []struct {
		name string
		o    GCOptions
		want []stepKey
	}{
		{name: "default", o: GCOptions{}, want: append(keepAll, keepPH, lost)},
		{name: "terminate", o: GCOptions{Terminate: true}, want: append(terminateAll, keepPH, lost)},
		{name: "placeholders", o: GCOptions{Placeholders: true}, want: append(keepAll, dropPH, lost)},
		{name: "both", o: GCOptions{Terminate: true, Placeholders: true}, want: append(terminateAll, dropPH, lost)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := PlanGC(NewPoolView(world(time.Now())), tt.o)
			if diff := cmp.Diff(tt.want, stepKeys(got.Steps)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			// someone (no record, no instance) and theirs (another controller's instance).
			if got, want := got.Foreign, 2; got != want {
				t.Errorf("foreign = %d, want %d", got, want)
			}
		})
	}
}

// TestPlanGCKeepsABusyPlaceholder: a placeholder running a job (an agent registered under its
// name) is kept even with --placeholders.
func TestPlanGCKeepsABusyPlaceholder(t *testing.T) {
	t.Parallel()
	o := Observation{Pool: worldPool, PoolID: 7, ControllerID: worldController, Agents: []ado.Agent{
		{ID: 1, Name: worldPlaceholder, Status: ado.AgentOnline, AssignedRequest: &ado.JobRequest{RequestID: 9}},
	}}
	got := PlanGC(NewPoolView(o), GCOptions{Placeholders: true, Terminate: true})
	want := []stepKey{{Kind: StepKeep, Target: "placeholder " + worldPlaceholder, Verb: "keep", Reason: "busy with job request 9"}}
	if diff := cmp.Diff(want, stepKeys(got.Steps)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

// TestPlanGCPoolNotInADO: a pool Azure DevOps lacks has no agents, but adofleet's instances for
// it are still planned, and another controller's are not.
func TestPlanGCPoolNotInADO(t *testing.T) {
	t.Parallel()
	w := world(time.Now())
	o := Observation{Pool: worldPool, ControllerID: worldController, Instances: w.Instances, Records: w.Records}
	v := NewPoolView(o)
	if v.InADO() {
		t.Error("InADO() = true for pool id 0")
	}
	var got []string
	for _, s := range PlanGC(v, GCOptions{Terminate: true}).Steps {
		if want := StepTerminate; strings.HasPrefix(s.Target, "record ") {
			want = StepCloseRecord
			if s.Kind != want {
				t.Errorf("step %s is %d, want StepCloseRecord", s.Target, s.Kind)
			}
		} else if s.Kind != want {
			t.Errorf("step %s is %d, want StepTerminate", s.Target, s.Kind)
		}
		got = append(got, s.Target)
	}
	// With no pool in ADO no agent exists: the records whose instance is gone are closed too.
	want := []string{"instance i-busy", "instance i-drain", "instance i-idle", "instance i-offinst", "instance i-orphan", "instance i-res",
		"record build-lost", "record build-off"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestStepVerbOfRemoveWithoutInstance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    Step
		want string
	}{
		{Step{Kind: StepRemoveAgent}, "disable and delete"},
		{Step{Kind: StepRemoveAgent, Inst: &provider.Instance{ID: "i-1"}}, "terminate instance i-1 and delete"},
		{Step{Kind: StepTerminate}, "terminate"},
		{Step{Kind: StepKeep}, "keep"},
	}
	for _, tt := range tests {
		if got := tt.s.Verb(); got != tt.want {
			t.Errorf("Verb() of %+v = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestPlanGCClosesLostRecords: a record whose agent is not in the pool and whose instance the
// provider no longer lists is closed; a launching one only once past the registration timeout,
// since its launch may still be in flight.
func TestPlanGCClosesLostRecords(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	o := Observation{Pool: worldPool, PoolID: 7, ControllerID: worldController, Records: []store.AgentRecord{
		{Name: "build-reg", Pool: worldPool, State: store.StateRegistered, InstanceID: "i-gone", CreatedAt: now.Add(-time.Hour)},
		{Name: "build-young", Pool: worldPool, State: store.StateLaunching, CreatedAt: now.Add(-time.Minute)},
		{Name: "build-old", Pool: worldPool, State: store.StateLaunched, InstanceID: "i-gone2", CreatedAt: now.Add(-time.Hour)},
		{Name: "build-done", Pool: worldPool, State: store.StateGone, CreatedAt: now.Add(-time.Hour)},
	}}
	tests := []struct {
		name string
		o    GCOptions
		want []string
	}{
		{"no clock: starting records stay", GCOptions{}, []string{"record build-reg"}},
		{"past the timeout", GCOptions{Now: now, RegistrationTimeout: 10 * time.Minute}, []string{"record build-old", "record build-reg"}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range PlanGC(NewPoolView(o), tt.o).Steps {
			if s.Kind != StepCloseRecord {
				t.Errorf("%s: step %s is %d, want StepCloseRecord", tt.name, s.Target, s.Kind)
			}
			got = append(got, s.Target)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: targets (-want +got):\n%s", tt.name, diff)
		}
	}
}
