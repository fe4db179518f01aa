package ec2_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ec2"
	"github.com/adofleet/adofleet/internal/provider/ec2/asgfake"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
)

func newASGProvider(t *testing.T, maxSize int) (*ec2.Provider, *asgfake.Server, *ec2fake.Server) {
	t.Helper()
	ec2s := ec2fake.New(t, func() time.Time { return epoch })
	asg := asgfake.New(t, ec2s)
	asg.AddGroup("agents", 0, maxSize)
	p, err := ec2.New(ec2.Options{
		EC2: ec2s.Client(), AutoScaling: asg.Client(), Mode: ec2.ModeASG, AutoScalingGroup: "agents",
		Controller: controllerID, Clock: func() time.Time { return epoch },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, asg, ec2s
}

func TestASGLaunchListTerminate(t *testing.T) {
	t.Parallel()
	p, asg, _ := newASGProvider(t, 5)
	insts, err := p.Launch(ctx, request("tok", "a1", "a2", "a3"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	for _, in := range insts {
		if !strings.HasPrefix(in.ID, ec2.PlaceholderPrefix) || in.State != provider.StatePending {
			t.Errorf("before the group converges, instance %+v, want a pending placeholder", in)
		}
	}
	if got := asg.Group("agents").Desired; got != 3 {
		t.Errorf("desired capacity = %d, want 3", got)
	}
	call := asg.Calls("SetDesiredCapacity")[0]
	if call.Params.Get("HonorCooldown") != "false" {
		t.Errorf("SetDesiredCapacity HonorCooldown = %q, want false", call.Params.Get("HonorCooldown"))
	}
	// Same token again: nothing new.
	if _, err := p.Launch(ctx, request("tok", "a1", "a2", "a3")); err != nil {
		t.Fatalf("repeat Launch: %v", err)
	}
	if got := asg.Group("agents").Desired; got != 3 {
		t.Errorf("desired capacity after repeat = %d, want 3", got)
	}

	// Placeholder of a3 is dropped before its instance exists: desired goes down by one.
	if err := p.Terminate(ctx, []string{ec2.PlaceholderPrefix + "a3"}); err != nil {
		t.Fatalf("Terminate placeholder: %v", err)
	}
	asg.Converge()
	listed, err := p.List(ctx, "linux")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	byAgent := map[string]provider.Instance{}
	for _, in := range listed {
		byAgent[in.AgentName] = in
	}
	if diff := cmp.Diff([]string{"a1", "a2"}, sorted(keys(byAgent))); diff != "" {
		t.Fatalf("listed agents (-want +got):\n%s", diff)
	}
	g := asg.Group("agents")
	for _, name := range []string{"a1", "a2"} {
		in := byAgent[name]
		if strings.HasPrefix(in.ID, ec2.PlaceholderPrefix) || !g.Protected[in.ID] || in.Tags[provider.TagAgent] != name {
			t.Errorf("agent %s: instance %s protected=%v tags=%v, want a claimed, protected, tagged instance", name, in.ID, g.Protected[in.ID], in.Tags)
		}
	}
	// A second List finds them by tag alone.
	again, err := p.List(ctx, "linux")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(listed), ids(again)); diff != "" {
		t.Errorf("second List (-first +second):\n%s", diff)
	}

	// Terminate exactly the chosen instance, decrementing the desired capacity.
	victim := byAgent["a2"].ID
	if err := p.Terminate(ctx, []string{victim}); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	calls := asg.Calls("TerminateInstanceInAutoScalingGroup")
	if len(calls) != 1 || calls[0].Params.Get("InstanceId") != victim || calls[0].Params.Get("ShouldDecrementDesiredCapacity") != "true" {
		t.Errorf("TerminateInstanceInAutoScalingGroup calls = %+v, want one for %s with decrement", calls, victim)
	}
	g = asg.Group("agents")
	if diff := cmp.Diff([]string{byAgent["a1"].ID}, g.Instances); diff != "" || g.Desired != 1 {
		t.Errorf("group after terminate: desired %d instances %v, want 1 and only a1's (%s)", g.Desired, g.Instances, diff)
	}
	// Gone already: not an error.
	if err := p.Terminate(ctx, []string{victim}); err != nil {
		t.Errorf("Terminate(gone) = %v, want nil", err)
	}
}

func TestASGAtMaxSizeIsCapacityError(t *testing.T) {
	t.Parallel()
	p, asg, _ := newASGProvider(t, 2)
	insts, err := p.Launch(ctx, request("tok", "a1", "a2", "a3"))
	var partial *provider.PartialError
	if !errors.As(err, &partial) || !errors.Is(partial.Failed["a3"], provider.ErrInsufficientCapacity) {
		t.Fatalf("Launch error = %v, want a3 failing with ErrInsufficientCapacity", err)
	}
	if len(insts) != 2 || asg.Group("agents").Desired != 2 {
		t.Errorf("started %d, desired %d, want 2 and 2", len(insts), asg.Group("agents").Desired)
	}
}

func keys(m map[string]provider.Instance) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
