package controller_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/store"
)

// TestCycleSeesOnlyItsOwnFleet runs cycles of one pool whose fleet changes between them: an agent
// and its instance disappear out of band, which only the second cycle's lists show. A pool's
// cycles reuse one observation's maps and slices; an entry left from the first cycle (the agent
// by name, its live instance, its record) would keep the vanished agent registered, or index past
// the end of the shorter agent list. The result of the first cycle must not change either. With
// the ADO client itself (not the test's wrapper), the ADO lists too are built in the reused
// memory (ado.ListBuffers), as in serve.
func TestCycleSeesOnlyItsOwnFleet(t *testing.T) {
	t.Parallel()
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "wrapped ADO", true: "ADO client"}[direct], func(t *testing.T) {
			t.Parallel()
			testCycleSeesOnlyItsOwnFleet(t, direct)
		})
	}
}

func testCycleSeesOnlyItsOwnFleet(t *testing.T, direct bool) {
	policy := testPolicy()
	policy.Min, policy.Max = 2, 3
	policy.OneJobPerAgent = false
	policy.IdleTimeout = time.Hour // idle agents stay
	h := newHarness(t, policy, true)
	opts := h.options(nil)
	if direct {
		opts.ADO = h.client
	}
	c := h.newController(opts)

	var first controller.Result
	h.until(c, 300, func() bool {
		first = h.reconcile(c)
		return first.Counts.Agents.Idle == 2
	})
	kept := first
	kept.Plan.Drain = append(kept.Plan.Drain[:0:0], first.Plan.Drain...)
	kept.Plan.DeleteAgents = append(kept.Plan.DeleteAgents[:0:0], first.Plan.DeleteAgents...)
	kept.Plan.Terminate = append(kept.Plan.Terminate[:0:0], first.Plan.Terminate...)

	recs := h.records()
	gone, ok := recs["linux-001"]
	if !ok || gone.State != store.StateRegistered {
		t.Fatalf("record linux-001 = %+v, want registered (records %v)", gone, recs)
	}
	// Out of band: the instance is terminated and the agent deleted from ADO.
	if err := h.prov.Terminate(h.ctx, []string{gone.InstanceID}); err != nil {
		t.Fatalf("terminate %s: %v", gone.InstanceID, err)
	}
	pool, err := h.client.FindPool(h.ctx, testPool)
	if err != nil {
		t.Fatalf("FindPool: %v", err)
	}
	if err := h.client.DeleteAgent(h.ctx, pool.ID, gone.AgentID); err != nil {
		t.Fatalf("DeleteAgent %d: %v", gone.AgentID, err)
	}

	second := h.reconcile(c)
	if got, want := second.RecordsGone, 1; got != want {
		t.Errorf("second cycle: records gone = %d, want %d", got, want)
	}
	if got, want := second.Counts.Agents.Idle, 1; got != want {
		t.Errorf("second cycle: idle agents = %d, want %d (counts %+v)", got, want, second.Counts)
	}
	if got, want := second.Plan.Launch, 1; got != want {
		t.Errorf("second cycle: launch %d, want %d (a replacement for min 2; %s)", got, want, second.Plan.LaunchReason)
	}
	if r := h.records()["linux-001"]; r.State != store.StateGone {
		t.Errorf("record linux-001 after the second cycle = %s (%s), want gone", r.State, r.Reason)
	}
	if r := h.records()["linux-002"]; r.State != store.StateRegistered {
		t.Errorf("record linux-002 after the second cycle = %s (%s), want registered", r.State, r.Reason)
	}
	if diff := cmp.Diff(kept, first); diff != "" {
		t.Errorf("the first cycle's result changed after the second cycle (-before +after):\n%s", diff)
	}
}
