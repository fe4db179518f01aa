package controller_test

import (
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/scaler"
)

// runningJobs returns the simulator's running jobs by the name of the agent running each.
func runningJobs(h *harness) map[string]int64 {
	out := map[string]int64{}
	for _, j := range h.org.Jobs() {
		if j.State == adosim.JobRunning {
			out[j.AgentName] = j.RequestID
		}
	}
	return out
}

// TestBusyFromJobRows: the cycle lists the agents without their assigned requests and learns who
// is busy from the job rows' reservedAgent: busy agents are counted busy, none is drained (the
// policy drains idle agents at once), and each record names the job its agent runs. When the rows
// cannot say (here, a row without its reservedAgent), the agents are listed again in full and the
// result is the same.
func TestBusyFromJobRows(t *testing.T) {
	t.Parallel()
	pol := testPolicy()
	pol.Max = 2
	pol.IdleTimeout = 0 // any agent the cycle thinks idle is planned for a drain
	h := newHarness(t, pol, true)
	c := h.newController(h.options(nil))
	if err := c.EnsurePlaceholders(h.ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	ids := h.queue(2, time.Hour)
	h.until(c, 500, func() bool { return len(runningJobs(h)) == 2 })
	want := runningJobs(h)
	h.ado.agentLists()

	check := func(name string, wantLean, wantFull int) {
		t.Helper()
		res := h.reconcile(c)
		if got := res.Counts.Agents.Busy; got != 2 {
			t.Errorf("%s: got %d busy agents, want 2 (counts %+v)", name, got, res.Counts)
		}
		if len(res.Plan.Drain) != 0 || res.Drained != 0 || res.Plan.Launch != 0 {
			t.Errorf("%s: plan %+v, drained %d; want nothing to do", name, res.Plan, res.Drained)
		}
		if lean, full := h.ado.agentLists(); lean != wantLean || full != wantFull {
			t.Errorf("%s: got %d lean and %d full agent lists, want %d and %d", name, lean, full, wantLean, wantFull)
		}
		recs := h.records()
		for agent, job := range want {
			if got := recs[agent].JobRequestID; got != job {
				t.Errorf("%s: record %s names job %d, want %d", name, agent, got, job)
			}
		}
	}
	check("job rows name their agents", 1, 0)

	// A running row that names no agent: the full list is asked for.
	h.ado.mu.Lock()
	h.ado.editJobs = func(jobs []ado.JobRequest) []ado.JobRequest {
		for i := range jobs {
			if jobs[i].RequestID == ids[0] {
				jobs[i].ReservedAgent = nil
			}
		}
		return jobs
	}
	h.ado.mu.Unlock()
	check("a row without its agent", 1, 1)

	for _, id := range ids {
		if j, _ := h.org.Job(id); j.Starts != 1 || j.State != adosim.JobRunning {
			t.Errorf("job %d: %s, started %d times; want running, once", id, j.State, j.Starts)
		}
	}
}

// TestJobRequestIDOncePerJob: a record takes the id of its agent's job the first cycle that sees
// it running, and later cycles write nothing more for it.
func TestJobRequestIDOncePerJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t, scaler.Policy{
		Max: 1, IdleTimeout: time.Hour, RegistrationTimeout: 10 * time.Minute, OneJobPerAgent: true,
		Capabilities: map[string]string{testDemand: "true"},
	}, true)
	c := h.newController(h.options(nil))
	if err := c.EnsurePlaceholders(h.ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	ids := h.queue(1, time.Hour)
	h.until(c, 500, func() bool {
		for _, r := range h.records() {
			if r.JobRequestID != 0 {
				return true
			}
		}
		return false
	})
	recs := h.records()
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	var name string
	for n := range recs {
		name = n
	}
	if got := recs[name].JobRequestID; got != ids[0] {
		t.Errorf("record %s names job %d, want %d", name, got, ids[0])
	}
	version := recs[name].Version
	for range 3 {
		h.reconcile(c)
	}
	if got := h.records()[name]; got.Version != version || got.JobRequestID != ids[0] {
		t.Errorf("after 3 more cycles: record version %d job %d, want version %d job %d (written again)",
			got.Version, got.JobRequestID, version, ids[0])
	}
	if got := h.actions()[controller.ActionDrainAborted]; got != 0 {
		t.Errorf("got %d aborted drains, want 0", got)
	}
}
