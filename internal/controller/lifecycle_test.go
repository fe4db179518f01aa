package controller_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// TestDrainAbortsWhenAgentTakesJob makes ADO assign a job to an idle agent in the window between
// the controller's disable and its re-check. The controller must re-enable the agent and keep its
// instance; the job runs once, and the agent is removed only after it is idle again.
func TestDrainAbortsWhenAgentTakesJob(t *testing.T) {
	t.Parallel()
	policy := testPolicy()
	policy.OneJobPerAgent = false // an agent that finished a job stays online and idle
	policy.IdleTimeout = time.Minute
	h := newHarness(t, policy, true)
	c := h.newController(h.options(nil))
	h.reconcile(c)
	first := h.queue(1, 10*time.Millisecond)[0]
	h.until(c, 200, func() bool {
		j, _ := h.org.Job(first)
		return j.State == adosim.JobFinished
	})

	h.clock.Advance(2 * policy.IdleTimeout) // the idle agent is now due for scale-in
	var raced int64
	h.ado.mu.Lock()
	h.ado.beforeDisable = func(agentID int) {
		// ADO hands the idle, still enabled agent a job just before the disable lands.
		raced = h.queue(1, 300*time.Millisecond)[0]
		if j, _ := h.org.Job(raced); j.AgentID != agentID {
			t.Errorf("raced job went to agent %d, want %d", j.AgentID, agentID)
		}
	}
	h.ado.mu.Unlock()

	res := h.reconcile(c)
	if res.DrainsAborted != 1 || res.Drained != 0 {
		t.Fatalf("drains aborted %d, drained %d; want 1, 0 (plan %+v)", res.DrainsAborted, res.Drained, res.Plan)
	}
	if got := h.prov.TerminatedIDs(); len(got) != 0 {
		t.Fatalf("terminated %v while the agent was busy", got)
	}
	for _, a := range h.org.Agents(testPool) {
		if a.Name != controller.PlaceholderName(testPool) && !a.Enabled {
			t.Errorf("agent %s left disabled after the aborted drain", a.Name)
		}
	}
	if r := h.records()["linux-001"]; r.State != store.StateRegistered {
		t.Errorf("record after aborted drain = %s (%s), want registered", r.State, r.Reason)
	}

	h.until(c, 300, func() bool { return len(h.org.Agents(testPool)) == 1 && h.prov.Running(testPool) == 0 })
	for _, id := range []int64{first, raced} {
		if j, _ := h.org.Job(id); j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: result %q, started %d times; want succeeded once", id, j.Result, j.Starts)
		}
	}
	acts := h.actions()
	if acts[controller.ActionDrainAborted] != 1 || acts[scaler.ActionDrain] != 2 {
		t.Errorf("decisions %v, want 2 drains and 1 drain-aborted", acts)
	}
}

// TestRestartResumesLaunch stops a controller in the middle of a launch (its provider call never
// returns), then starts a new controller on the same store: it must finish the launch without
// starting anything twice and without losing the agents.
func TestRestartResumesLaunch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		startFirst bool // the provider started the instances before the crash
	}{
		{"crash before the provider call", false},
		{"crash after the provider started the instances", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, testPolicy(), true)
			h.reconcile(h.newController(h.options(nil))) // placeholder
			ids := h.queue(2, 10*time.Millisecond)

			blocked := &blockingProvider{Provider: h.prov, startFirst: tt.startFirst, entered: make(chan struct{})}
			first := h.newController(h.options(blocked))
			ctx, cancel := context.WithCancel(h.ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = first.ReconcileOnce(ctx, testPool)
			}()
			<-blocked.entered
			cancel() // the process dies mid-launch
			<-done

			recs := h.records()
			if len(recs) != 2 {
				t.Fatalf("records after the crash: %v, want 2 intents", recs)
			}
			for name, r := range recs {
				if r.State != store.StateLaunching {
					t.Errorf("record %s = %s, want launching", name, r.State)
				}
			}

			h.store = h.openStore() // a new process on the same file
			second := h.newController(h.options(nil))
			res := h.reconcile(second)
			if res.Launched+res.Resumed == 0 && !tt.startFirst {
				t.Errorf("first cycle after restart resumed nothing: %+v", res)
			}
			if res.Plan.Launch != 0 {
				t.Errorf("restart planned %d new launches, want 0: the intents count", res.Plan.Launch)
			}
			h.until(second, 300, func() bool {
				for _, id := range ids {
					if j, _ := h.org.Job(id); j.State != adosim.JobFinished {
						return false
					}
				}
				return h.prov.Running(testPool) == 0 && len(h.org.Agents(testPool)) == 1
			})

			if got := len(h.prov.Instances()); got != 2 {
				t.Errorf("provider started %d instances, want 2 (nothing twice)", got)
				for _, d := range h.decisions() {
					t.Logf("decision %s %s: %s", d.Action, d.Target, d.Reason)
				}
			}
			perAgent := map[string]int{}
			for _, in := range h.prov.Instances() {
				perAgent[in.AgentName]++
			}
			for name := range recs {
				if perAgent[name] != 1 {
					t.Errorf("agent %s has %d instances, want 1", name, perAgent[name])
				}
			}
			for _, id := range ids {
				if j, _ := h.org.Job(id); j.Result != "succeeded" || j.Starts != 1 {
					t.Errorf("job %d: result %q, started %d times", id, j.Result, j.Starts)
				}
			}
			for name, r := range h.records() {
				if r.State != store.StateGone {
					t.Errorf("record %s = %s at the end, want gone", name, r.State)
				}
			}
		})
	}
}

// TestStaleAgentDeleted: an agent the controller created that is offline with no instance is
// deleted from ADO once past the new-agent grace; an offline agent that is not ours is kept.
func TestStaleAgentDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	c := h.newController(h.options(nil))
	h.reconcile(c)
	for _, name := range []string{"linux-stale", "someone-elses"} {
		if _, err := h.org.AddAgent(testPool, adosim.AgentSpec{Name: name, UserCapabilities: map[string]string{testDemand: "true"}}); err != nil {
			t.Fatalf("AddAgent: %v", err)
		}
	}
	now := h.clock.Now()
	if err := h.store.CreateAgent(h.ctx, store.AgentRecord{
		Name: "linux-stale", Pool: testPool, State: store.StateRegistered, InstanceID: "fake-gone",
		CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}

	if res := h.reconcile(c); res.AgentsDeleted != 0 {
		t.Fatalf("deleted %d agents within the new-agent grace, want 0", res.AgentsDeleted)
	}
	h.clock.Advance(scaler.NewAgentGrace + time.Second)
	res := h.reconcile(c)
	if res.AgentsDeleted != 1 {
		t.Fatalf("deleted %d agents, want 1 (plan %+v)", res.AgentsDeleted, res.Plan)
	}
	got := h.agentNames()
	want := map[string]bool{controller.PlaceholderName(testPool): true, "someone-elses": true}
	if len(got) != len(want) || !want[got[0]] || !want[got[1]] {
		t.Errorf("agents left %v, want the placeholder and someone-elses", got)
	}
	if r := h.records()["linux-stale"]; r.State != store.StateGone {
		t.Errorf("stale record = %s, want gone", r.State)
	}
	if h.actions()[scaler.ActionDelete] != 1 {
		t.Errorf("decisions %v, want one delete-agent", h.actions())
	}
}

// TestOrphanInstanceTerminated: an instance whose agent never registers is kept (and counted) until
// the registration timeout, then terminated and its record closed with the reason.
func TestOrphanInstanceTerminated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false) // no agents run: nothing ever registers
	c := h.newController(h.options(nil))
	h.reconcile(c)
	h.queue(1, time.Second)
	if res := h.reconcile(c); res.Launched != 1 {
		t.Fatalf("launched %d, want 1", res.Launched)
	}
	h.clock.Advance(h.policy.RegistrationTimeout - time.Minute)
	res := h.reconcile(c)
	if res.Terminated != 0 || res.Plan.Launch != 0 {
		t.Fatalf("before the timeout: terminated %d, launched %d; want 0, 0", res.Terminated, res.Plan.Launch)
	}
	h.clock.Advance(2 * time.Minute)
	res = h.reconcile(c)
	if res.Terminated != 1 {
		t.Fatalf("terminated %d, want 1 (plan %+v)", res.Terminated, res.Plan)
	}
	if got := h.prov.TerminatedIDs(); len(got) != 1 || got[0] != "fake-1" {
		t.Errorf("terminated %v, want [fake-1]", got)
	}
	r := h.records()["linux-001"]
	if r.State != store.StateGone || !strings.Contains(r.Reason, "orphan") {
		t.Errorf("orphan record = %s (%q), want gone with the reason", r.State, r.Reason)
	}
	if res.Launched != 1 {
		t.Errorf("replacement launches = %d, want 1 for the still queued job", res.Launched)
	}
}

// TestLaunchFailures: a partial failure closes only the failed agents; a failed batch closes all of
// it; insufficient capacity also pauses the pool's launches until the backoff passes.
func TestLaunchFailures(t *testing.T) {
	t.Parallel()
	t.Run("partial", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, testPolicy(), false)
		c := h.newController(h.options(nil))
		h.reconcile(c)
		h.prov.FailAgent("linux-002", provider.ErrInsufficientCapacity)
		h.queue(3, time.Second)
		res := h.reconcile(c)
		if res.Launched != 2 || res.LaunchFailed != 1 {
			t.Fatalf("launched %d, failed %d; want 2, 1", res.Launched, res.LaunchFailed)
		}
		recs := h.records()
		for name, want := range map[string]store.AgentState{
			"linux-001": store.StateLaunched, "linux-002": store.StateGone, "linux-003": store.StateLaunched,
		} {
			if recs[name].State != want {
				t.Errorf("record %s = %s, want %s", name, recs[name].State, want)
			}
		}
		if r := recs["linux-002"]; !strings.Contains(r.Reason, provider.ErrInsufficientCapacity.Error()) {
			t.Errorf("failed record reason %q lacks the cause", r.Reason)
		}
		// Still one queued job without an agent, but the pool backs off.
		h.prov.ClearFailures()
		if res := h.reconcile(c); res.Plan.Launch != 1 || res.Launched != 0 {
			t.Errorf("during backoff: planned %d, launched %d; want 1, 0", res.Plan.Launch, res.Launched)
		}
		h.clock.Advance(controller.DefaultCapacityBackoff + time.Second)
		if res := h.reconcile(c); res.Launched != 1 {
			t.Errorf("after backoff launched %d, want 1", res.Launched)
		}
	})
	t.Run("whole batch", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, testPolicy(), false)
		c := h.newController(h.options(nil))
		h.reconcile(c)
		invalid := fmt.Errorf("%w: boom", provider.ErrInvalidRequest)
		h.prov.FailLaunch(1, invalid)
		h.queue(2, time.Second)
		res, err := c.ReconcileOnce(h.ctx, testPool)
		if !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("cycle error = %v, want it to wrap %v", err, invalid)
		}
		if res.LaunchFailed != 2 {
			t.Fatalf("failed %d, want 2", res.LaunchFailed)
		}
		for name, r := range h.records() {
			if r.State != store.StateGone || !strings.Contains(r.Reason, "boom") {
				t.Errorf("record %s = %s (%q), want gone with the cause", name, r.State, r.Reason)
			}
		}
		if got := h.actions()[controller.ActionLaunchFailed]; got != 2 {
			t.Errorf("%d launch-failed decisions, want 2", got)
		}
		if res := h.reconcile(c); res.Launched != 2 {
			t.Errorf("next cycle launched %d, want 2 (no backoff for an invalid request)", res.Launched)
		}
	})
	// An untyped error (a timeout, a lost response) does not say nothing started: the intents
	// stay and the next cycle re-issues the same token; only past the registration timeout is the
	// launch given up.
	t.Run("outcome unknown", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, testPolicy(), false)
		c := h.newController(h.options(nil))
		h.reconcile(c)
		h.prov.FailLaunch(1, errBoom)
		h.queue(2, time.Second)
		res, err := c.ReconcileOnce(h.ctx, testPool)
		if !errors.Is(err, errBoom) || res.LaunchFailed != 0 {
			t.Fatalf("cycle = %d failed, error %v; want 0 failed and an error wrapping %v", res.LaunchFailed, err, errBoom)
		}
		for name, r := range h.records() {
			if r.State != store.StateLaunching {
				t.Errorf("record %s = %s (%q), want launching", name, r.State, r.Reason)
			}
		}
		if res := h.reconcile(c); res.Launched != 2 || res.Resumed != 2 {
			t.Errorf("next cycle launched %d (resumed %d), want 2 re-issued with their token", res.Launched, res.Resumed)
		}

		h.queue(1, time.Second)
		h.prov.FailLaunch(1, errBoom)
		if res := h.reconcile(c); res.LaunchFailed != 0 {
			t.Fatalf("failed %d, want 0", res.LaunchFailed)
		}
		h.clock.Advance(testPolicy().RegistrationTimeout + time.Second)
		h.prov.FailLaunch(1, errBoom)
		if res := h.reconcile(c); res.LaunchFailed != 1 {
			t.Errorf("past the registration timeout failed %d, want 1", res.LaunchFailed)
		}
	})
}

// TestWake: with a resync far away, Wake makes the pool's loop run a cycle at once.
func TestWake(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	listed := make(chan struct{}, 1)
	h.ado.listed = listed
	launched := make(chan provider.Instance, 1)
	h.prov.OnLaunch = func(inst provider.Instance, _ provider.LaunchRequest) {
		select { // never blocks the controller's launch
		case launched <- inst:
		default:
		}
	}
	opts := h.options(nil)
	opts.Resync = time.Hour

	c := h.newController(opts)
	if err := c.EnsurePlaceholders(h.ctx); err != nil { // or ADO fails the job queued below
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	<-listed // the first cycle runs at start
	h.queue(1, time.Second)
	c.Wake(testPool)
	c.Wake(testPool) // coalesces; never blocks
	c.Wake("no-such-pool")
	select {
	case <-listed:
	case <-time.After(30 * time.Second):
		t.Fatal("no cycle after Wake")
	}
	select { // the woken cycle launches for the job it saw
	case <-launched:
	case <-time.After(30 * time.Second): // a liveness guard, not a timing assertion
		t.Fatal("the woken cycle launched nothing for the queued job")
	}
	if got := h.prov.Running(testPool); got != 1 {
		t.Errorf("running instances = %d after the woken cycle, want 1", got)
	}
}

// TestInterruptedDrainResumed: a crash between disabling an agent and recording its drain leaves
// an agent of ours disabled with a registered record; the next cycle finishes the drain instead
// of leaving it to hold a slot forever.
func TestInterruptedDrainResumed(t *testing.T) {
	t.Parallel()
	policy := testPolicy()
	policy.OneJobPerAgent = false
	policy.IdleTimeout = time.Hour // no planned drain: only the resumed one
	h := newHarness(t, policy, true)
	c := h.newController(h.options(nil))
	h.reconcile(c)
	id := h.queue(1, 10*time.Millisecond)[0]
	h.until(c, 200, func() bool {
		j, _ := h.org.Job(id)
		return j.State == adosim.JobFinished && h.records()["linux-001"].State == store.StateRegistered
	})
	agentID := h.records()["linux-001"].AgentID
	poolID, err := h.org.PoolID(testPool)
	if err != nil {
		t.Fatalf("PoolID: %v", err)
	}
	// The crashed drain's disable, with no record of it.
	if _, err := h.client.SetAgentEnabled(h.ctx, poolID, agentID, false); err != nil {
		t.Fatalf("disable: %v", err)
	}
	res := h.reconcile(c)
	if res.Drained != 1 {
		t.Fatalf("drained %d, want 1 (plan %+v)", res.Drained, res.Plan)
	}
	if got := h.agentNames(); len(got) != 1 {
		t.Errorf("agents %v, want only the placeholder", got)
	}
	if h.prov.Running(testPool) != 0 {
		t.Errorf("instance still running after the resumed drain")
	}
}
