//go:build unix

package main

import (
	"context"
	"slices"
	"strings"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// converge waits, with c running, until the pool is back at rest (every job finished, every
// instance ended, only the placeholder agent left, every record closed), stops c, and checks
// the invariants: wantJobs jobs each ran once, no agent or instance doubled, no busy agent's
// instance terminated, at most maxInstances instances, and the store agreeing with EC2 and ADO.
func (r *crashRig) converge(ctx context.Context, c *crashChild, wantJobs, maxInstances int) {
	r.t.Helper()
	r.waitFor(ctx, c, "ADO and EC2 at rest (jobs finished, instances ended, only the placeholder)", r.atRest)
	st := r.openStore(ctx)
	r.waitFor(ctx, c, "every store record closed", func() bool {
		recs, err := st.ListAgents(ctx, crashPool)
		if err != nil {
			r.t.Fatalf("store: list agents: %v", err)
		}
		return !slices.ContainsFunc(recs, func(rec store.AgentRecord) bool { return rec.State != store.StateGone })
	})
	// The last controller must have seen this state itself: a reconcile without an error.
	r.waitFor(ctx, c, c.label+" ready (a reconcile without errors)", func() bool { return c.ready(ctx) })
	r.stop(c)
	if !r.atRest() {
		r.t.Error("the pool left its rest state after the last controller stopped")
	}
	r.checkInvariants(ctx, st, wantJobs, maxInstances)
	for _, run := range r.runs {
		if strings.Contains(run.stderr.String(), crashPAT) {
			r.t.Errorf("%s logged the PAT", run.label)
		}
	}
}

// atRest reports whether ADO and EC2 have nothing left running for the pool.
func (r *crashRig) atRest() bool {
	if !allJobsFinished(r.org) {
		return false
	}
	for _, in := range r.ec2.Instances() {
		if !ec2Ended(in.State) {
			return false
		}
	}
	agents := r.org.Agents(crashPool)
	return len(agents) == 1 && agents[0].Name == controller.PlaceholderName(crashPool)
}

func (r *crashRig) checkInvariants(ctx context.Context, st *sqlite.Store, wantJobs, maxInstances int) {
	t := r.t
	t.Helper()
	checkJobsSucceededOnce(t, r.org, wantJobs)

	starts, busyKilled, errs := r.vms.report()
	for _, err := range errs {
		t.Errorf("machine: %v", err)
	}
	for _, b := range busyKilled {
		t.Errorf("terminated while its agent was busy: %s", b)
	}
	for name, n := range starts {
		if n != 1 {
			t.Errorf("agent %q was started on %d machines, want 1", name, n)
		}
	}

	instances := r.ec2.Instances()
	if len(instances) == 0 || len(instances) > maxInstances {
		t.Errorf("instances launched = %d, want 1 to %d", len(instances), maxInstances)
	}
	byAgent := map[string]string{} // agent name -> instance id
	for _, in := range instances {
		name := in.Tags["adofleet:agent"]
		if name == "" || in.Tags["adofleet:pool"] != crashPool || in.Tags["adofleet:controller"] != "crash" || in.Tags["adofleet:token"] == "" {
			t.Errorf("instance %s: tags %v; want the pool, controller, agent and token tags", in.ID, in.Tags)
		}
		if prev, dup := byAgent[name]; dup {
			t.Errorf("agent %q has two instances, %s and %s", name, prev, in.ID)
		}
		byAgent[name] = in.ID
	}

	// The store knows every instance the controllers started, by the same name and id, and
	// nothing else; every record is closed.
	recs, err := st.ListAgents(ctx, crashPool)
	if err != nil {
		t.Fatalf("store: list agents: %v", err)
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		seen[rec.Name] = true
		id, ok := byAgent[rec.Name]
		switch {
		case !ok:
			t.Errorf("store record %q (%s: %s) has no instance in EC2", rec.Name, rec.State, rec.Reason)
		case rec.InstanceID != "" && rec.InstanceID != id:
			t.Errorf("store record %q names instance %s; EC2 has %s for it", rec.Name, rec.InstanceID, id)
		}
		if rec.State != store.StateGone {
			t.Errorf("store record %q is %s (%s), want gone", rec.Name, rec.State, rec.Reason)
		}
	}
	for name, id := range byAgent {
		if !seen[name] {
			t.Errorf("instance %s (agent %q) has no store record", id, name)
		}
	}
}
