package controller_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/store"
)

// checkDemands stands in for the checks package: pending checks per pool and reserved agents.
type checkDemands struct {
	mu       sync.Mutex
	pending  map[string]int
	err      error
	reserved map[string]bool
	calls    int
}

func (d *checkDemands) Demands(context.Context) (map[string]int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	return d.pending, d.err
}

func (d *checkDemands) Reserved(pool string) map[string]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if pool != testPool {
		return nil
	}
	return d.reserved
}

func (d *checkDemands) set(change func(d *checkDemands)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	change(d)
}

// A pending check launches an agent although no job is queued; the demand of another pool does not.
func TestCheckDemandLaunchesWithNoQueuedJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	d := &checkDemands{pending: map[string]int{testPool: 1, "windows": 4}}
	opts := h.options(nil)
	opts.Demands = d.Demands
	c := h.newController(opts)
	res := h.reconcile(c)
	if res.Launched != 1 {
		t.Fatalf("launched %d, want 1 (plan %+v)", res.Launched, res.Plan)
	}
	if want := "1 check waiting"; !strings.Contains(res.Plan.LaunchReason, want) {
		t.Errorf("LaunchReason = %q, want it to contain %q", res.Plan.LaunchReason, want)
	}
	if d.calls != 1 {
		t.Errorf("Demands called %d times in one cycle, want 1", d.calls)
	}
	// The launched agent is supply: the same demand launches nothing more.
	if res := h.reconcile(c); res.Launched != 0 {
		t.Errorf("second cycle launched %d, want 0 (plan %+v)", res.Launched, res.Plan)
	}
}

// An error from Demands fails the cycle before anything is decided.
func TestCheckDemandErrorFailsCycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	boom := errors.New("requests table locked")
	d := &checkDemands{err: boom}
	opts := h.options(nil)
	opts.Demands = d.Demands
	c := h.newController(opts)
	res, err := c.ReconcileOnce(h.ctx, testPool)
	if !errors.Is(err, boom) {
		t.Fatalf("ReconcileOnce error = %v, want %v", err, boom)
	}
	if res.Observed || res.Launched != 0 {
		t.Errorf("result %+v, want not observed and nothing launched", res)
	}
}

// The agent a check released idles until ADO queues the job: while it is reserved it is not
// drained, however long it idles; once the reservation ends it is.
func TestReservedAgentIsNotDrained(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), true)
	d := &checkDemands{pending: map[string]int{testPool: 1}}
	opts := h.options(nil)
	opts.Demands = d.Demands
	opts.Reserved = d.Reserved
	c := h.newController(opts)
	var name string
	h.until(c, 200, func() bool {
		for _, a := range h.org.Agents(testPool) {
			if a.State == adosim.AgentIdle && strings.HasPrefix(a.Name, "linux-") {
				name = a.Name
				return true
			}
		}
		return false
	})
	// The check is released to the agent: no longer pending, the agent reserved.
	d.set(func(d *checkDemands) { d.pending, d.reserved = nil, map[string]bool{name: true} })
	h.clock.Advance(time.Hour)
	for range 3 {
		if res := h.reconcile(c); len(res.Plan.Drain) != 0 || res.Drained != 0 {
			t.Fatalf("reserved agent: plan drains %+v, drained %d; want none", res.Plan.Drain, res.Drained)
		}
	}
	if r := h.records()[name]; r.State == store.StateDraining || r.State == store.StateGone {
		t.Fatalf("record of reserved agent %s is %s", name, r.State)
	}
	// The reservation lapses without a job: the idle agent is drained as usual.
	d.set(func(d *checkDemands) { d.reserved = nil })
	res := h.reconcile(c)
	if len(res.Plan.Drain) != 1 || res.Plan.Drain[0].Target != name {
		t.Errorf("after the reservation: drains %+v, want %s", res.Plan.Drain, name)
	}
}
