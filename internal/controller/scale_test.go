package controller_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// TestScaleFromZeroAndBack queues more jobs than Max, lets the controller scale the pool up and
// back to zero, and checks that every job ran exactly once, every agent it started was removed
// from the pool (the placeholder stays), and Max held after every cycle.
func TestScaleFromZeroAndBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), true)
	c := h.newController(h.options(nil))
	if err := c.EnsurePlaceholders(h.ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	const jobs = 7
	ids := h.queue(jobs, 30*time.Millisecond)

	h.until(c, 500, func() bool {
		for _, j := range h.org.Jobs() {
			if j.State != adosim.JobFinished {
				return false
			}
		}
		return len(h.org.Agents(testPool)) == 1 && h.prov.Running(testPool) == 0
	})

	for _, id := range ids {
		j, _ := h.org.Job(id)
		if j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: result %q, started %d times; want succeeded, once", id, j.Result, j.Starts)
		}
	}
	if got, want := h.agentNames(), []string{controller.PlaceholderName(testPool)}; !cmp.Equal(got, want) {
		t.Errorf("agents left in the pool = %v, want %v", got, want)
	}
	launched := 0
	for name, r := range h.records() {
		launched++
		if r.State != store.StateGone {
			t.Errorf("record %s is %s, want gone", name, r.State)
		}
	}
	if launched < jobs {
		t.Errorf("%d agents launched for %d one-job jobs, want at least %d", launched, jobs, jobs)
	}
	if n := len(h.prov.Instances()); n != launched {
		t.Errorf("provider started %d instances, store recorded %d agents", n, launched)
	}
	res := h.reconcile(c)
	if !res.Plan.Empty() || res.Counts != (controller.Counts{}) {
		t.Errorf("idle pool: plan %+v counts %+v, want nothing", res.Plan, res.Counts)
	}
}

// TestLaunchRequest checks the batch the controller hands the provider: one token, the tags
// naming the pool and controller, and the environment an agent registers with.
func TestLaunchRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	c := h.newController(h.options(nil))
	h.reconcile(c) // registers the placeholder
	h.queue(2, time.Second)
	res := h.reconcile(c)
	if res.Launched != 2 {
		t.Fatalf("launched %d, want 2 (plan %+v)", res.Launched, res.Plan)
	}
	reqs := h.prov.LaunchRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d launch calls, want 1 batch", len(reqs))
	}
	req := reqs[0]
	if req.Token == "" {
		t.Error("launch token is empty")
	}
	wantTags := provider.TagsFor(testPool, "test", "", req.Token)
	if diff := cmp.Diff(wantTags, req.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	wantEnv := map[string]string{
		"AZP_URL": h.url, "AZP_TOKEN": testPAT, "AZP_POOL": testPool, "AZP_ONCE": "true",
		"ADOFLEET_CAPABILITIES": `{"docker":"true"}`, "EXTRA": "from-pool",
	}
	if diff := cmp.Diff(wantEnv, req.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	var names []string
	for _, a := range req.Agents {
		names = append(names, a.Name)
	}
	if want := []string{"linux-001", "linux-002"}; !cmp.Equal(names, want) {
		t.Errorf("agents %v, want %v", names, want)
	}
	for _, in := range h.prov.Instances() {
		r := h.records()[in.AgentName]
		if r.State != store.StateLaunched || r.InstanceID != in.ID || r.LaunchToken != req.Token {
			t.Errorf("record of %s = %+v, want launched with instance %s and token %s", in.AgentName, r, in.ID, req.Token)
		}
		if in.Tags[provider.TagAgent] != in.AgentName {
			t.Errorf("instance %s tags %v lack its agent", in.ID, in.Tags)
		}
	}
	if got := h.actions()[scaler.ActionLaunch]; got != 1 {
		t.Errorf("%d launch decisions, want 1", got)
	}
}

// TestPlaceholder: the placeholder is registered once, offline, with the pool's capabilities, and
// keeps ADO from failing a job queued while the pool has no agents.
func TestPlaceholder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	c := h.newController(h.options(nil))
	for range 2 {
		if err := c.EnsurePlaceholders(h.ctx); err != nil {
			t.Fatalf("EnsurePlaceholders: %v", err)
		}
	}
	h.reconcile(c)
	agents := h.org.Agents(testPool)
	if len(agents) != 1 {
		t.Fatalf("agents %v, want only the placeholder", h.agentNames())
	}
	p := agents[0]
	if p.Name != controller.PlaceholderName(testPool) || p.Online {
		t.Errorf("placeholder %q online=%v, want %q offline", p.Name, p.Online, controller.PlaceholderName(testPool))
	}
	if diff := cmp.Diff(testPolicy().Capabilities, p.UserCapabilities); diff != "" {
		t.Errorf("placeholder capabilities (-want +got):\n%s", diff)
	}
	if got := h.actions()[controller.ActionRegisterPlaceholder]; got != 1 {
		t.Errorf("%d register-placeholder decisions, want 1", got)
	}
	id := h.queue(1, time.Second)[0]
	if j, _ := h.org.Job(id); j.State != adosim.JobQueued {
		t.Errorf("job with the placeholder present is %s (%s), want queued", j.State, j.Result)
	}
}

// TestObserveCost: a cycle with nothing to do makes exactly one job-request list and one agent
// list (the pool id is cached), as the simulator counts them over HTTP.
func TestObserveCost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	c := h.newController(h.options(nil))
	first := h.reconcile(c)
	if first.ADOCalls != 4 { // find pool, list jobs, list agents, add placeholder
		t.Errorf("first cycle made %d ADO calls, want 4", first.ADOCalls)
	}
	before := h.sim.Calls()
	res := h.reconcile(c)
	after := h.sim.Calls()
	if res.ADOCalls != 2 {
		t.Errorf("idle cycle made %d ADO calls, want 2", res.ADOCalls)
	}
	var total int64
	for k, n := range after {
		total += n - before[k]
	}
	if total != 2 {
		t.Errorf("simulator served %d requests in an idle cycle, want 2 (%v)", total, diffCalls(before, after))
	}
	if got := len(h.prov.Calls()); got != 2 {
		t.Errorf("provider calls after two cycles = %d, want 2 lists", got)
	}
}

func diffCalls(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, n := range after {
		if d := n - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// TestStatus reports the pool's bounds and counts from the last cycle, and the decisions.
func TestStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	c := h.newController(h.options(nil))
	st, err := c.Status(h.ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if len(st.Pools) != 1 || !st.Pools[0].LastReconcile.IsZero() {
		t.Fatalf("status before any cycle = %+v", st)
	}
	h.reconcile(c)
	h.queue(2, time.Second)
	h.reconcile(c)
	st, err = c.Status(h.ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	got := st.Pools[0]
	got.LastReconcile = time.Time{}
	want := controller.PoolStatus{
		Name: testPool, Provider: "fake", Max: 3, QueuedJobs: 2,
		// The cycle observed before it launched: the two agents are starting from the next one.
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pool status (-want +got):\n%s", diff)
	}
	h.reconcile(c)
	st, _ = c.Status(h.ctx)
	if got := st.Pools[0].Agents.Starting; got != 2 {
		t.Errorf("starting agents = %d, want 2", got)
	}
	var actions []string
	for _, d := range st.Decisions {
		actions = append(actions, d.Action)
	}
	slices.Sort(actions)
	wantActions := []string{scaler.ActionLaunch, controller.ActionRegisterPlaceholder} // sorted
	if !cmp.Equal(actions, wantActions) {
		t.Errorf("decisions %v, want %v", actions, wantActions)
	}
}
