package controller_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
)

// TestPoolResourcesReachLaunchRequest: a pool's Resources, Template and Env are handed to the
// provider with every launch of the pool, so a provider that sizes instances (ECS) sees them.
func TestPoolResourcesReachLaunchRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	opts := h.options(nil)
	want := provider.Resources{CPU: "1 vCPU", Memory: "2048"}
	opts.Pools[0].Resources = want
	opts.Pools[0].Template = "ado-agent-large:3"
	c := h.newController(opts)

	h.reconcile(c) // registers the placeholder, without which ADO would fail the jobs
	h.queue(2, time.Minute)
	if res := h.reconcile(c); res.Launched != 2 {
		t.Fatalf("launched %d, want 2 (plan %+v)", res.Launched, res.Plan)
	}

	reqs := h.prov.LaunchRequests()
	if len(reqs) == 0 {
		t.Fatal("no launch request; want one batch for the queued jobs")
	}
	for i, req := range reqs {
		if diff := cmp.Diff(want, req.Resources); diff != "" {
			t.Errorf("launch %d: resources (-want +got):\n%s", i, diff)
		}
		if got, want := req.Template, "ado-agent-large:3"; got != want {
			t.Errorf("launch %d: template %q, want %q", i, got, want)
		}
		if got, want := req.Env["EXTRA"], "from-pool"; got != want {
			t.Errorf("launch %d: pool env EXTRA = %q, want %q", i, got, want)
		}
		if got, want := len(req.Agents), 2; got != want {
			t.Errorf("launch %d: %d agents, want %d", i, got, want)
		}
	}
}
