package faultinject_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/faultinject"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
)

func launchReq(token string, n int) provider.LaunchRequest {
	req := provider.LaunchRequest{Token: token, Pool: "pool", Tags: provider.TagsFor("pool", "ctl", "", token)}
	for i := range n {
		req.Agents = append(req.Agents, provider.AgentSpec{Name: fmt.Sprintf("%s-a%d", token, i)})
	}
	return req
}

// TestLaunchFailuresMatchWhatStarted checks every kind of launch failure against what the fake
// really started: nothing before, all but one for a partial failure, everything for a lost
// response.
func TestLaunchFailuresMatchWhatStarted(t *testing.T) {
	t.Parallel()
	f := fake.New()
	in := faultinject.New(5, faultinject.Rates{LaunchFail: 1})
	p := in.Provider(f)
	ctx := context.Background()
	for i := range 60 {
		before := f.Running("pool")
		insts, err := p.Launch(ctx, launchReq(fmt.Sprintf("t%d", i), 3))
		started := f.Running("pool") - before
		if !errors.Is(err, faultinject.ErrInjected) {
			t.Fatalf("launch %d error = %v, want ErrInjected (LaunchFail is 1)", i, err)
		}
		var pe *provider.PartialError
		switch {
		case errors.As(err, &pe):
			if len(insts) != 2 || started != 2 || len(pe.Failed) != 1 || !errors.Is(err, provider.ErrInsufficientCapacity) {
				t.Errorf("partial launch %d: returned %d, started %d, failed %v; want 2, 2 and one capacity failure", i, len(insts), started, pe.Failed)
			}
		case started == 3:
			if len(insts) != 0 {
				t.Errorf("lost-response launch %d returned %d instances, want none", i, len(insts))
			}
		case started != 0 || len(insts) != 0:
			t.Errorf("failed launch %d: returned %d, started %d; want nothing", i, len(insts), started)
		}
	}
	c := in.Counts()
	for _, k := range []string{faultinject.FaultLaunchBefore, faultinject.FaultLaunchPartial, faultinject.FaultLaunchAfter} {
		if c[k] == 0 {
			t.Errorf("no %s in 60 failed launches: %v", k, c)
		}
	}
	if got, want := c[faultinject.FaultLaunchBefore]+c[faultinject.FaultLaunchPartial]+c[faultinject.FaultLaunchAfter], int64(60); got != want {
		t.Errorf("launch faults counted = %d, want %d", got, want)
	}
}

func TestLaunchLateHoldsInstancesPending(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := fake.New()
	f.Now = func() time.Time { return now }
	in := faultinject.New(1, faultinject.Rates{LaunchLate: 1, LateBy: 10 * time.Minute})
	p := in.Provider(f)
	insts, err := p.Launch(context.Background(), launchReq("late", 2))
	if err != nil || len(insts) != 2 {
		t.Fatalf("Launch = %v, %v; want 2 instances", insts, err)
	}
	for _, inst := range insts {
		if inst.State != provider.StatePending {
			t.Errorf("returned %s state = %s, want pending", inst.ID, inst.State)
		}
	}
	now = now.Add(9 * time.Minute)
	if got, _ := f.Instance(insts[0].ID); got.State != provider.StatePending {
		t.Errorf("after 9m state = %s, want pending", got.State)
	}
	now = now.Add(time.Minute)
	list, err := p.List(context.Background(), "pool")
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range list {
		if inst.State != provider.StateRunning {
			t.Errorf("after 10m %s state = %s, want running", inst.ID, inst.State)
		}
	}
}

// lateOnly hides the fake's LateStarter, so the wrapper has to make the call itself slow.
type lateOnly struct{ provider.Provider }

func TestLaunchLateWithoutLateStarterIsASlowCall(t *testing.T) {
	t.Parallel()
	in := faultinject.New(1, faultinject.Rates{LaunchLate: 1, LateBy: time.Hour})
	p := in.Provider(lateOnly{fake.New()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Launch(ctx, launchReq("slow", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Launch with an ended context = %v, want context.Canceled", err)
	}
}

func TestInstanceLossInterrupts(t *testing.T) {
	t.Parallel()
	f := fake.New()
	var interrupted []string
	f.OnInterrupt = func(inst provider.Instance) { interrupted = append(interrupted, inst.ID) }
	f.OnTerminate = func(inst provider.Instance) { t.Errorf("OnTerminate(%s) for a loss", inst.ID) }
	ctx := context.Background()
	if _, err := f.Launch(ctx, launchReq("x", 3)); err != nil {
		t.Fatal(err)
	}
	in := faultinject.New(1, faultinject.Rates{InstanceLoss: 1})
	list, err := in.Provider(f).List(ctx, "pool")
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range list {
		if inst.State != provider.StateTerminated || inst.Reason != faultinject.LossReason {
			t.Errorf("listed %s as %s (%q), want terminated (%q)", inst.ID, inst.State, inst.Reason, faultinject.LossReason)
		}
	}
	if got, want := len(interrupted), 3; got != want {
		t.Errorf("OnInterrupt called %d times, want %d", got, want)
	}
	if got := f.Running("pool"); got != 0 {
		t.Errorf("Running = %d after every instance was lost, want 0", got)
	}
}

func TestTerminateFailsBeforeOrAfter(t *testing.T) {
	t.Parallel()
	f := fake.New()
	in := faultinject.New(2, faultinject.Rates{TerminateFail: 1})
	p := in.Provider(f)
	ctx := context.Background()
	for i := range 30 {
		insts, err := f.Launch(ctx, launchReq(fmt.Sprintf("t%d", i), 1))
		if err != nil {
			t.Fatal(err)
		}
		before := in.Counts()[faultinject.FaultTerminateAfter]
		err = p.Terminate(ctx, []string{insts[0].ID})
		if !errors.Is(err, faultinject.ErrInjected) {
			t.Fatalf("Terminate %d error = %v, want ErrInjected", i, err)
		}
		got, _ := f.Instance(insts[0].ID)
		after := in.Counts()[faultinject.FaultTerminateAfter] > before
		if stopped := got.State == provider.StateTerminated; stopped != after {
			t.Errorf("terminate %d: instance stopped = %v, but fault after the effect = %v", i, stopped, after)
		}
	}
	if c := in.Counts(); c[faultinject.FaultTerminateBefore] == 0 || c[faultinject.FaultTerminateAfter] == 0 {
		t.Errorf("want both kinds of terminate failure in 30 calls, got %v", c)
	}
}
