package controller

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
)

func TestAttributable(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	done := "succeeded"
	queued := ado.JobRequest{RequestID: 1}
	running := ado.JobRequest{RequestID: 2, AssignTime: &at, ReservedAgent: &ado.AgentRef{ID: 7}}
	anonymous := ado.JobRequest{RequestID: 3, AssignTime: &at}
	finished := ado.JobRequest{RequestID: 4, AssignTime: &at, Result: &done}
	full := make([]ado.JobRequest, ado.MaxJobRequestRows)
	tests := []struct {
		name string
		jobs []ado.JobRequest
		want bool
	}{
		{"none", nil, true},
		{"queued and running with their agents", []ado.JobRequest{queued, running}, true},
		{"finished rows need no agent", []ado.JobRequest{finished, running}, true},
		{"an assigned row without its agent", []ado.JobRequest{running, anonymous}, false},
		{"at the row cap, some rows may be missing", full, false},
		{"one below the cap", full[1:], true},
	}
	for _, tt := range tests {
		if got := attributable(tt.jobs); got != tt.want {
			t.Errorf("%s: attributable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAttachJobs(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	done := "succeeded"
	agents := []ado.Agent{
		{ID: 1, Name: "idle"},
		{ID: 2, Name: "runs-10"},
		{ID: 3, Name: "listed-busy", AssignedRequest: &ado.JobRequest{RequestID: 30}},
		{ID: 4, Name: "finished-11"},
	}
	jobs := []ado.JobRequest{
		{RequestID: 9},
		{RequestID: 10, AssignTime: &at, ReservedAgent: &ado.AgentRef{ID: 2}},
		{RequestID: 11, AssignTime: &at, ReservedAgent: &ado.AgentRef{ID: 4}, Result: &done},
		{RequestID: 31, AssignTime: &at, ReservedAgent: &ado.AgentRef{ID: 3}},  // the list said 30: kept
		{RequestID: 12, AssignTime: &at, ReservedAgent: &ado.AgentRef{ID: 99}}, // not listed
	}
	var o observation
	o.attachJobs(agents, jobs)
	if diff := cmp.Diff(map[string]int64{"runs-10": 10, "listed-busy": 30}, assignedByName(agents)); diff != "" {
		t.Errorf("assigned requests after attachJobs (-want +got):\n%s", diff)
	}

	// The same observation again (not even reset): agent 2 is gone and agent 99 listed in its
	// place. An index left from the first list would attach row 10 or 12 to the wrong agent.
	next := []ado.Agent{{ID: 4, Name: "finished-11"}, {ID: 99, Name: "late"}, {ID: 1, Name: "idle"}}
	o.attachJobs(next, jobs)
	if diff := cmp.Diff(map[string]int64{"late": 12}, assignedByName(next)); diff != "" {
		t.Errorf("assigned requests after attachJobs on a reused observation (-want +got):\n%s", diff)
	}
}

// assignedByName maps each agent with an assigned request to the request's id.
func assignedByName(agents []ado.Agent) map[string]int64 {
	got := map[string]int64{}
	for _, a := range agents {
		if a.AssignedRequest != nil {
			got[a.Name] = a.AssignedRequest.RequestID
		}
	}
	return got
}
