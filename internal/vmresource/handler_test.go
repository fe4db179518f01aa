package vmresource_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/vmresource"
)

func TestMessagesThatCanNeverBeHandledNameTheField(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct{ name, body, want string }{
		{"not json", "hello", "not a JSON object"},
		{"json array", "[1,2]", "not a JSON object"},
		{"unknown shape", `{"foo":"bar"}`, "LifecycleTransition"},
		{"hook without instance", hookNotification("autoscaling:EC2_INSTANCE_TERMINATING", hookASG, "", hookName, "t"), "EC2InstanceId"},
		{"hook without group", hookNotification("autoscaling:EC2_INSTANCE_TERMINATING", "", "i-0123456789abcdef0", hookName, "t"), "AutoScalingGroupName"},
		{"hook without hook name", hookNotification("autoscaling:EC2_INSTANCE_TERMINATING", hookASG, "i-0123456789abcdef0", "", "t"), "LifecycleHookName"},
		{"not an instance id", hookNotification("autoscaling:EC2_INSTANCE_LAUNCHING", hookASG, "vm-1", hookName, "t"), "EC2InstanceId"},
		{"sns with garbage", snsEnvelope("nope"), "SNS Message"},
		{"sns subscription", `{"Type":"SubscriptionConfirmation","Message":"x"}`, "SubscriptionConfirmation"},
		{"eventbridge other source", strings.Replace(ebSuccessful("launch", hookASG, "i-0123456789abcdef0"), "aws.autoscaling", "aws.ec2", 1), "source"},
		{"eventbridge without instance", eventBridge("EC2 Instance Terminate Successful", map[string]string{"AutoScalingGroupName": hookASG}), "detail.EC2InstanceId"},
	} {
		err := h.m.HandleMessage(t.Context(), tc.body)
		if !errors.Is(err, vmresource.ErrPoison) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: HandleMessage = %v, want ErrPoison naming %q", tc.name, err, tc.want)
		}
	}
}

func TestIgnoredMessagesChangeNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.launch(t, "other", true)
	for _, tc := range []struct{ name, body string }{
		{"test notification", `{"AccountId":"123456789012","RequestId":"r","AutoScalingGroupARN":"arn","AutoScalingGroupName":"web-hooked","Service":"AWS Auto Scaling","Event":"autoscaling:TEST_NOTIFICATION","Time":"2026-03-01T12:00:00Z"}`},
		{"test notification through SNS", snsEnvelope(`{"Event":"autoscaling:TEST_NOTIFICATION","AutoScalingGroupName":"web-hooked"}`)},
		{"another group", ebSuccessful("terminate", "other", id)},
		{"launch error", snsEnvelope(`{"Event":"autoscaling:EC2_INSTANCE_LAUNCH_ERROR","AutoScalingGroupName":"web-hooked","EC2InstanceId":"` + id + `"}`)},
		{"unsuccessful event", eventBridge("EC2 Instance Launch Unsuccessful", map[string]string{"AutoScalingGroupName": hookASG, "EC2InstanceId": id})},
	} {
		if err := h.m.HandleMessage(t.Context(), tc.body); err != nil {
			t.Errorf("%s: HandleMessage = %v, want nil", tc.name, err)
		}
	}
	recs, err := h.store.ListVMs(t.Context(), store.VMFilter{})
	if err != nil || len(recs) != 0 {
		t.Errorf("records after ignored messages = %v, %v; want none", recs, err)
	}
	if got := h.resources(t); !cmp.Equal(got, []string{id}) {
		t.Errorf("resources = %v, want [%s] untouched", got, id)
	}
}

// TestHookedTermination: the launch (through SNS) records the resource's ids; the termination
// (EventBridge) deletes the resource, then the hidden agent, then completes the lifecycle action.
func TestHookedTermination(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := t.Context()
	id := h.launch(t, hookASG, true)
	keep := h.launch(t, hookASG, true)
	h.register(t, "i-00000000000000abc") // no instance behind it; events never touch it

	if err := h.m.HandleMessage(ctx, snsEnvelope(hookNotification("autoscaling:EC2_INSTANCE_LAUNCHING", hookASG, id, "launching", "tok-l"))); err != nil {
		t.Fatalf("launch: %v", err)
	}
	rec, err := h.store.GetVM(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != store.VMRegistered || rec.ResourceID == 0 || rec.AgentID == 0 || rec.PoolID != h.poolID ||
		rec.ResourceName != id || rec.Project != project || rec.Environment != envName || rec.AutoScalingGroup != hookASG ||
		!cmp.Equal(rec.Tags, []string{"web", "linux"}) {
		t.Errorf("record after launch = %+v", rec)
	}

	action, held := h.asg.ScaleIn(id)
	if !held {
		t.Fatal("the hooked group did not hold the instance")
	}
	if err := h.m.HandleMessage(ctx, ebLifecycle("terminate", hookASG, id, hookName, action.Token)); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if got, want := h.resources(t), sorted(keep, "i-00000000000000abc"); !cmp.Equal(got, want) {
		t.Errorf("resources = %v, want %v", got, want)
	}
	if got, want := h.poolAgents(t), sorted(keep, "i-00000000000000abc"); !cmp.Equal(got, want) {
		t.Errorf("deployment pool agents = %v, want %v (no hidden agent left)", got, want)
	}
	if in, _ := h.ec2.Instance(id); in.State != "terminated" {
		t.Errorf("instance state %q, want terminated (lifecycle action completed)", in.State)
	}
	rec, _ = h.store.GetVM(ctx, id)
	if rec.State != store.VMGone || rec.ExpiresAt.Sub(rec.UpdatedAt) != vmresource.DefaultRecordTTL {
		t.Errorf("record after termination: state %s, expires %v after update; want gone, %v", rec.State, rec.ExpiresAt.Sub(rec.UpdatedAt), vmresource.DefaultRecordTTL)
	}
	if n := h.events.Count(notify.VMResourceDeregistered); n != 1 {
		t.Errorf("%d deregistered events, want 1", n)
	}

	// The same termination again (SNS duplicate) and a late launch change nothing.
	if err := h.m.HandleMessage(ctx, snsEnvelope(hookNotification("autoscaling:EC2_INSTANCE_TERMINATING", hookASG, id, hookName, action.Token))); err != nil {
		t.Errorf("duplicate terminate: %v", err)
	}
	if err := h.m.HandleMessage(ctx, ebSuccessful("launch", hookASG, id)); err != nil {
		t.Errorf("late launch: %v", err)
	}
	if rec2, _ := h.store.GetVM(ctx, id); rec2.State != store.VMGone {
		t.Errorf("after a late launch: state %s, want gone", rec2.State)
	}
	if n := h.events.Count(notify.VMResourceDeregistered); n != 1 {
		t.Errorf("%d deregistered events after duplicates, want 1", n)
	}
}

// TestTerminationWithoutHookBeforeLaunch: the termination arrives first and without a hook; it
// removes the resource by name, and the launch that arrives later does nothing.
func TestTerminationWithoutHookBeforeLaunch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := t.Context()
	id := h.launch(t, plainASG, true)
	h.asg.ScaleIn(id)
	if err := h.m.HandleMessage(ctx, ebSuccessful("terminate", plainASG, id)); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if err := h.m.HandleMessage(ctx, snsEnvelope(`{"Event":"autoscaling:EC2_INSTANCE_LAUNCH","AutoScalingGroupName":"`+plainASG+`","EC2InstanceId":"`+id+`"}`)); err != nil {
		t.Fatalf("late launch: %v", err)
	}
	if got := h.resources(t); len(got) != 0 {
		t.Errorf("resources = %v, want none", got)
	}
	if got := h.poolAgents(t); len(got) != 0 {
		t.Errorf("pool agents = %v, want none", got)
	}
	rec, err := h.store.GetVM(ctx, id)
	if err != nil || rec.State != store.VMGone {
		t.Errorf("record = %+v, %v; want gone", rec, err)
	}
	if calls := h.asg.Calls("CompleteLifecycleAction"); len(calls) != 0 {
		t.Errorf("%d CompleteLifecycleAction calls without a hook, want 0", len(calls))
	}
}

// TestReplacementIsNotDeleted: a resource of the same name with an id other than the recorded
// one is kept by the event handler (Reconcile removes it once the instance is gone).
func TestReplacementIsNotDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := t.Context()
	id := h.launch(t, plainASG, true)
	if err := h.m.HandleMessage(ctx, ebSuccessful("launch", plainASG, id)); err != nil {
		t.Fatal(err)
	}
	first, _ := h.store.GetVM(ctx, id)
	// Someone removes the resource and its agent by hand and the machine registers again.
	if err := h.client.DeleteVMResource(ctx, project, h.envID, first.ResourceID); err != nil {
		t.Fatal(err)
	}
	if err := h.client.DeleteAgent(ctx, h.poolID, first.AgentID); err != nil {
		t.Fatal(err)
	}
	second := h.register(t, id)
	if err := h.m.HandleMessage(ctx, ebSuccessful("terminate", plainASG, id)); err != nil {
		t.Fatal(err)
	}
	rs, _ := h.org.VMResources(project, h.envID)
	if len(rs) != 1 || rs[0].ID != second.ResourceID || rs[0].AgentID != second.AgentID {
		t.Errorf("resources = %+v, want the re-registered one (%d) kept with its agent", rs, second.ResourceID)
	}
}
