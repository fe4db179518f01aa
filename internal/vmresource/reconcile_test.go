package vmresource_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/vmresource"
)

// world sets up, in one Environment: a running registered instance, a terminated instance whose
// resource stayed, a terminated instance whose resource was deleted but whose hidden agent
// stayed, a running instance that never registered, and a machine registered by hand.
type world struct {
	running, gone, agentOnly, missing string
}

func setupWorld(t *testing.T, h *harness) world {
	t.Helper()
	ctx := t.Context()
	w := world{
		running:   h.launch(t, hookASG, true),
		gone:      h.launch(t, plainASG, true),
		agentOnly: h.launch(t, plainASG, true),
		missing:   h.launch(t, plainASG, false),
	}
	h.asg.ScaleIn(w.gone)
	h.asg.ScaleIn(w.agentOnly)
	rs, _ := h.org.VMResources(project, h.envID)
	for _, r := range rs {
		if r.Name == w.agentOnly {
			if err := h.client.DeleteVMResource(ctx, project, h.envID, r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := h.org.AddVMResource(project, h.envID, adosimSpec("build-box")); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestReconcileRemovesGoneAndReportsMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	w := setupWorld(t, h)
	rep, err := h.m.Reconcile(t.Context())
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	var removed []string
	for _, r := range rep.Removed {
		removed = append(removed, r.InstanceID)
	}
	if want := sorted(w.gone, w.agentOnly); !cmp.Equal(removed, want) {
		t.Errorf("Removed = %v, want %v", removed, want)
	}
	wantMissing := []vmresource.MissingInstance{{Project: project, Environment: envName, AutoScalingGroup: plainASG, InstanceID: w.missing}}
	if diff := cmp.Diff(wantMissing, rep.Missing); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
	if got, want := h.resources(t), sorted("build-box", w.running); !cmp.Equal(got, want) {
		t.Errorf("resources = %v, want %v", got, want)
	}
	if got, want := h.poolAgents(t), sorted("build-box", w.running); !cmp.Equal(got, want) {
		t.Errorf("pool agents = %v, want %v", got, want)
	}
	for _, id := range []string{w.gone, w.agentOnly} {
		if rec, err := h.store.GetVM(t.Context(), id); err != nil || rec.State != store.VMGone {
			t.Errorf("record of %s = %+v, %v; want gone", id, rec, err)
		}
	}
	if got := metricValue(t, h, "adofleet_vmresource_reconcile_removals_total"); got != 2 {
		t.Errorf("reconcile_removals_total = %v, want 2", got)
	}
	out := rep.String()
	for _, s := range []string{"removed " + project + "/" + envName + ": instance " + w.gone, "missing from", w.missing, "2 removed, 1 missing, 0 errors"} {
		if !strings.Contains(out, s) {
			t.Errorf("report does not say %q:\n%s", s, out)
		}
	}

	// A second pass finds nothing more to do.
	rep, err = h.m.Reconcile(t.Context())
	if err != nil || len(rep.Removed) != 0 || len(rep.Missing) != 1 {
		t.Errorf("second Reconcile = %+v, %v; want nothing removed, the same instance missing", rep, err)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *vmresource.Options) { o.DryRun = true })
	ctx := t.Context()
	w := setupWorld(t, h)
	beforeRes, beforeAgents := h.resources(t), h.poolAgents(t)

	rep, err := h.m.Reconcile(ctx)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if !rep.DryRun || len(rep.Removed) != 2 || len(rep.Missing) != 1 {
		t.Errorf("dry-run report = %+v, want 2 would-be removals and 1 missing", rep)
	}
	if !strings.Contains(rep.String(), "would remove") {
		t.Errorf("dry-run report does not say \"would remove\":\n%s", rep)
	}
	action, _ := h.asg.ScaleIn(w.running)
	for _, body := range []string{
		ebSuccessful("launch", hookASG, w.running),
		ebLifecycle("terminate", hookASG, w.running, hookName, action.Token),
		ebSuccessful("terminate", plainASG, w.gone),
	} {
		if err := h.m.HandleMessage(ctx, body); err != nil {
			t.Errorf("HandleMessage in dry run: %v", err)
		}
	}
	if got := h.resources(t); !cmp.Equal(got, beforeRes) {
		t.Errorf("resources = %v, want unchanged %v", got, beforeRes)
	}
	if got := h.poolAgents(t); !cmp.Equal(got, beforeAgents) {
		t.Errorf("pool agents = %v, want unchanged %v", got, beforeAgents)
	}
	if recs, err := h.store.ListVMs(ctx, store.VMFilter{}); err != nil || len(recs) != 0 {
		t.Errorf("records = %v, %v; want none written", recs, err)
	}
	if calls := h.asg.Calls("CompleteLifecycleAction"); len(calls) != 0 {
		t.Errorf("%d CompleteLifecycleAction calls in dry run, want 0", len(calls))
	}
	if len(h.asg.Pending()) != 1 {
		t.Errorf("pending lifecycle actions = %v, want the one still held", h.asg.Pending())
	}
}

// TestReconcileRecordsResourceThatAppearedLater: a launch seen before the instance registered
// leaves the record launching; Reconcile fills in the ids once the resource is there.
func TestReconcileRecordsResourceThatAppearedLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := t.Context()
	id := h.launch(t, plainASG, false)
	if err := h.m.HandleMessage(ctx, ebSuccessful("launch", plainASG, id)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := h.store.GetVM(ctx, id); rec.State != store.VMLaunching || rec.ResourceID != 0 {
		t.Fatalf("record before registration = %+v, want launching without a resource", rec)
	}
	got := h.register(t, id)
	if _, err := h.m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	rec, _ := h.store.GetVM(ctx, id)
	if rec.State != store.VMRegistered || rec.ResourceID != got.ResourceID || rec.AgentID != got.AgentID {
		t.Errorf("record after Reconcile = %+v, want registered with resource %d and agent %d", rec, got.ResourceID, got.AgentID)
	}
}
