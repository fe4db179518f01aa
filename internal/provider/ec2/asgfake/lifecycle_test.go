package asgfake_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/provider/ec2/asgfake"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/provider/ec2/internal/awsmodel"
)

func TestTerminationHookHoldsInstanceUntilCompleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ec2 := ec2fake.New(t, nil)
	s := asgfake.New(t, ec2)
	s.AddGroup("web", 0, 10)
	s.AddGroup("plain", 0, 10)
	s.PutTerminationHook("web", "drain")
	c := s.Client()

	held := s.Launch("web")
	plain := s.Launch("plain")
	a, ok := s.ScaleIn(held)
	if !ok || a.Token == "" || a.Hook != "drain" {
		t.Fatalf("ScaleIn(held) = %+v, %v; want an action of hook drain with a token", a, ok)
	}
	if _, ok := s.ScaleIn(plain); ok {
		t.Errorf("ScaleIn without a hook held the instance")
	}
	if in, _ := ec2.Instance(plain); in.State != "terminated" {
		t.Errorf("instance without a hook: state %q, want terminated", in.State)
	}
	out, err := c.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil {
		t.Fatalf("DescribeAutoScalingGroups: %v", err)
	}
	if got := out.AutoScalingGroups[0].Instances[0].LifecycleState; got != "Terminating:Wait" {
		t.Errorf("LifecycleState = %q, want Terminating:Wait", got)
	}

	complete := func(token, id string) error {
		in := &autoscaling.CompleteLifecycleActionInput{AutoScalingGroupName: aws.String("web"), LifecycleHookName: aws.String("drain"),
			LifecycleActionResult: aws.String("CONTINUE")}
		if token != "" {
			in.LifecycleActionToken = aws.String(token)
		}
		if id != "" {
			in.InstanceId = aws.String(id)
		}
		_, err := c.CompleteLifecycleAction(ctx, in)
		return err
	}
	if err := complete("wrong-token", ""); !isNoActive(err) {
		t.Errorf("complete with a wrong token = %v, want ValidationError No active Lifecycle Action", err)
	}
	if in, _ := ec2.Instance(held); in.State != "running" {
		t.Errorf("held instance: state %q before completion, want running", in.State)
	}
	if err := complete(a.Token, held); err != nil {
		t.Fatalf("CompleteLifecycleAction: %v", err)
	}
	if in, _ := ec2.Instance(held); in.State != "terminated" {
		t.Errorf("after completion: state %q, want terminated", in.State)
	}
	if err := complete(a.Token, held); !isNoActive(err) {
		t.Errorf("second completion = %v, want ValidationError No active Lifecycle Action", err)
	}
	if got := len(s.Pending()); got != 0 {
		t.Errorf("%d actions pending, want 0", got)
	}

	m := awsmodel.Load(t, "autoscaling")
	read := s.ParamsRead()["CompleteLifecycleAction"]
	if len(read) == 0 {
		t.Fatal("no CompleteLifecycleAction parameters recorded to check")
	}
	for _, p := range read {
		if err := m.CheckInput("CompleteLifecycleAction", p); err != nil {
			t.Errorf("request: %v", err)
		}
	}
	if w := m.ResultWrapper("CompleteLifecycleAction"); w != "CompleteLifecycleActionResult" {
		t.Errorf("model result wrapper %q, fake writes CompleteLifecycleActionResult", w)
	}
	for _, err := range m.CheckOutput("CompleteLifecycleAction", asgfake.ResultTypes["CompleteLifecycleAction"]) {
		t.Errorf("response: %v", err)
	}
}

func isNoActive(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "No active Lifecycle Action")
}
