package leadertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/store"
)

// Failover timings. The clock that decides leases is a manual Clock, moved a step at a time;
// RetryPeriod also paces the electors' real timers, so it is short. (The elector's own tests
// check takeover within LeaseDuration+RetryPeriod to the nanosecond, under synctest.)
const (
	failoverLease   = 15 * time.Second
	failoverRenew   = 10 * time.Second
	failoverRetry   = 20 * time.Millisecond
	failoverStep    = 500 * time.Millisecond
	failoverTimeout = 30 * time.Second // a failsafe on waits, never asserted
)

// Opener opens one controller's store on the shared backing data (the same table, database or
// file every call). The test closes it.
type Opener func(t *testing.T) store.Store

// RunFailover is the high-availability scenario of issue 8: two controllers, each with its own
// store client on the same backing data, campaign for one lease; the first leads and writes under
// its fence; it crashes (its context ends and nothing is released); the second takes over once
// the lease has expired on the shared clock, within LeaseDuration (plus the step the test moves
// the clock by) of the crash; the crashed leader's late writes are refused with ErrFenced and
// change nothing.
func RunFailover(t *testing.T, open Opener) {
	t.Helper()
	clock := NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	stA, stB := open(t), open(t)
	t.Cleanup(func() { _ = stA.Close(); _ = stB.Close() })
	a, b := startController(t, "a", stA, clock), startController(t, "b", stB, clock)

	// a leads: it started first and b waits for it.
	a.run()
	fenceA := a.waitLead(t)
	if fenceA.Token < 1 {
		t.Fatalf("a's fence: %+v, want a token", fenceA)
	}
	b.run()
	b.waitAttempts(t, 1)
	if b.elector.IsLeader() {
		t.Fatalf("b leads while a holds the lease")
	}
	ctx := context.Background()
	if err := stA.CreateAgent(store.WithFence(ctx, fenceA), agent("written-by-a")); err != nil {
		t.Fatalf("a's write under its own fence: %v", err)
	}

	// a crashes: its process is gone, so it neither renews nor releases.
	a.leases.Crash()
	a.stop()
	crashAt := clock.Now()
	lastRenewal, _ := a.leases.LastWin()

	// Time moves on a step at a time; b tries at each step until it wins.
	var win Attempt
	for {
		if w, ok := b.leases.FirstWin(); ok {
			win = w
			break
		}
		if clock.Now().Sub(crashAt) > failoverLease+failoverStep {
			t.Fatalf("b has not taken over %v after a crashed (lease %v)", clock.Now().Sub(crashAt), failoverLease)
		}
		clock.Advance(failoverStep)
		b.waitAttemptAt(t, clock.Now())
	}
	fenceB := b.waitLead(t)
	took := win.Now.Sub(crashAt)
	t.Logf("b took over %v after a crashed (shared clock)", took)
	if took > failoverLease+failoverStep {
		t.Errorf("takeover %v after the crash, want within the lease time %v (plus the clock's step %v)", took, failoverLease, failoverStep)
	}
	if win.Now.Before(lastRenewal.Lease.Expires) {
		t.Errorf("b took over at %v, before a's lease expired at %v", win.Now, lastRenewal.Lease.Expires)
	}
	if fenceB.Token != fenceA.Token+1 {
		t.Errorf("b's token %d, want a's %d plus one", fenceB.Token, fenceA.Token)
	}

	// a's late writes (a goroutine of the crashed process that outlived its lead context) are
	// refused and change nothing; b's go through.
	stale := store.WithFence(ctx, fenceA)
	if err := stA.CreateAgent(stale, agent("late-from-a")); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's late CreateAgent: got %v, want ErrFenced", err)
	}
	if _, err := stB.GetAgent(ctx, "late-from-a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAgent of a's refused record: got %v, want ErrNotFound", err)
	}
	if err := stA.DeleteAgent(stale, "written-by-a"); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a's late DeleteAgent: got %v, want ErrFenced", err)
	}
	r, err := stB.GetAgent(ctx, "written-by-a")
	if err != nil {
		t.Fatalf("GetAgent after a's refused delete: %v", err)
	}
	r.Reason = "b adopted it"
	if _, err := stB.UpdateAgent(store.WithFence(ctx, fenceB), r); err != nil {
		t.Errorf("b's UpdateAgent under its fence: %v", err)
	}
	b.stop()
}

func agent(name string) store.AgentRecord {
	return store.AgentRecord{Name: name, Pool: "linux", State: store.StateLaunching}
}

// controller is one replica's elector with a lead function that reports its fence.
type controller struct {
	name    string
	leases  *Faulty
	elector leader.Elector
	fences  chan store.Fence
	cancel  context.CancelFunc
	done    chan error
}

func startController(t *testing.T, name string, st store.Store, clock *Clock) *controller {
	t.Helper()
	f := NewFaulty(st)
	return &controller{
		name: name, leases: f, fences: make(chan store.Fence, 4),
		elector: leader.NewStore(f, leader.Options{
			Name: "adofleet-controller", Identity: name, Now: clock.Now,
			LeaseDuration: failoverLease, RenewDeadline: failoverRenew, RetryPeriod: failoverRetry,
		}),
	}
}

func (c *controller) run() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan error, 1)
	go func() {
		c.done <- c.elector.Run(ctx, func(ctx context.Context) {
			f, _ := store.FenceFrom(ctx)
			c.fences <- f
			<-ctx.Done()
		})
	}()
}

// stop ends Run and waits for it.
func (c *controller) stop() {
	c.cancel()
	<-c.done
}

func (c *controller) waitLead(t *testing.T) store.Fence {
	t.Helper()
	select {
	case f := <-c.fences:
		return f
	case <-time.After(failoverTimeout):
		t.Fatalf("%s never led", c.name)
		return store.Fence{}
	}
}

// waitAttempts waits until c has had n AcquireLease calls answered.
func (c *controller) waitAttempts(t *testing.T, n int) {
	t.Helper()
	c.waitFor(t, func(as []Attempt) bool { return len(as) >= n }, "attempts")
}

// waitAttemptAt waits until c has tried the lease at now or later.
func (c *controller) waitAttemptAt(t *testing.T, now time.Time) {
	t.Helper()
	c.waitFor(t, func(as []Attempt) bool { return len(as) > 0 && !as[len(as)-1].Now.Before(now) }, "an attempt at "+now.String())
}

func (c *controller) waitFor(t *testing.T, ok func([]Attempt) bool, what string) {
	t.Helper()
	timeout := time.After(failoverTimeout)
	for {
		as, next := c.leases.Attempts()
		if ok(as) {
			return
		}
		select {
		case <-next:
		case <-timeout:
			t.Fatalf("%s: waited for %s", c.name, what)
		}
	}
}
