package controller_test

import (
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/store"
)

// TestStartFailureIsReportedWithTheProviderReason: an instance that ends before its agent registers
// (an image that cannot be pulled, say) becomes a start-failed decision carrying the provider's own
// reason, so the dashboard shows why, and the still queued job gets a new agent.
func TestStartFailureIsReportedWithTheProviderReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false) // no agents run: nothing registers
	c := h.newController(h.options(nil))
	h.reconcile(c)
	h.queue(1, time.Second)
	if res := h.reconcile(c); res.Launched != 1 {
		t.Fatalf("launched %d, want 1", res.Launched)
	}
	const why = "CannotPullContainerError: pull access denied"
	if err := h.prov.MarkTerminated("fake-1", why); err != nil {
		t.Fatal(err)
	}
	res := h.reconcile(c)

	var got *store.Decision
	for _, d := range h.decisions() {
		if d.Action == controller.ActionStartFailed {
			got = &d
			break
		}
	}
	if got == nil {
		t.Fatalf("no %s decision; decisions: %+v", controller.ActionStartFailed, h.decisions())
	}
	if got.Target != "linux-001" || !strings.Contains(got.Reason, why) {
		t.Errorf("decision = %+v, want target linux-001 and the reason %q", *got, why)
	}
	if r := h.records()["linux-001"]; r.State != store.StateGone || !strings.Contains(r.Reason, why) {
		t.Errorf("record = %s (%q), want gone with the provider's reason", r.State, r.Reason)
	}
	if res.Launched != 1 {
		t.Errorf("replacement launches = %d, want 1 for the still queued job", res.Launched)
	}
}
