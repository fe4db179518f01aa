package asgfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/provider/ec2/asgfake"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/provider/ec2/internal/awsmodel"
)

func TestOperationsAndShapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ec2 := ec2fake.New(t, nil)
	s := asgfake.New(t, ec2)
	s.AddGroup("agents", 0, 3)
	c := s.Client()
	if _, err := c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("agents"),
		DesiredCapacity: aws.Int32(2), HonorCooldown: aws.Bool(false)}); err != nil {
		t.Fatalf("SetDesiredCapacity: %v", err)
	}
	s.Converge()
	out, err := c.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"agents"}})
	if err != nil {
		t.Fatalf("DescribeAutoScalingGroups: %v", err)
	}
	g := out.AutoScalingGroups[0]
	if aws.ToInt32(g.DesiredCapacity) != 2 || len(g.Instances) != 2 || aws.ToString(g.AutoScalingGroupName) != "agents" {
		t.Fatalf("group = desired %d, %d instances, want 2 and 2", aws.ToInt32(g.DesiredCapacity), len(g.Instances))
	}
	first := aws.ToString(g.Instances[0].InstanceId)
	if _, err := c.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("agents"),
		InstanceIds: []string{first}, ProtectedFromScaleIn: aws.Bool(true)}); err != nil {
		t.Fatalf("SetInstanceProtection: %v", err)
	}
	act, err := c.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId: aws.String(first), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	if err != nil || act.Activity == nil || aws.ToString(act.Activity.AutoScalingGroupName) != "agents" {
		t.Fatalf("TerminateInstanceInAutoScalingGroup = %+v, %v", act, err)
	}
	if got := s.Group("agents"); got.Desired != 1 || len(got.Instances) != 1 {
		t.Errorf("after terminate: desired %d, %d instances, want 1 and 1", got.Desired, len(got.Instances))
	}
	_, err = c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("agents"), DesiredCapacity: aws.Int32(9)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationError" {
		t.Errorf("SetDesiredCapacity above max = %v, want ValidationError", err)
	}
	s.Throttle("DescribeAutoScalingGroups", 2)
	if _, err := c.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"agents"}}); err != nil {
		t.Errorf("DescribeAutoScalingGroups after 2 throttles: %v", err)
	}

	m := awsmodel.Load(t, "autoscaling")
	for op, ps := range s.ParamsRead() {
		for _, p := range ps {
			if err := m.CheckInput(op, p); err != nil {
				t.Errorf("request: %v", err)
			}
		}
	}
	for op, v := range asgfake.ResultTypes {
		if v == nil {
			if w := m.ResultWrapper(op); w != "" {
				t.Errorf("%s: the model has result %s, the fake writes none", op, w)
			}
			continue
		}
		if m.ResultWrapper(op) != op+"Result" {
			t.Errorf("%s: model result wrapper %q, fake writes %sResult", op, m.ResultWrapper(op), op)
		}
		for _, err := range m.CheckOutput(op, v) {
			t.Errorf("response: %v", err)
		}
	}
}
