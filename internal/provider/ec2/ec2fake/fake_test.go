package ec2fake_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/provider/ec2/internal/awsmodel"
)

// exercise calls every operation the fake answers, with every parameter it reads.
func exercise(t *testing.T, s *ec2fake.Server) {
	t.Helper()
	ctx := context.Background()
	c := s.Client()
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		ClientToken:                       aws.String("tok-1"),
		LaunchTemplate:                    &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-1"), LaunchTemplateName: nil, Version: aws.String("$Latest")},
		InstanceType:                      types.InstanceTypeM5Large,
		SubnetId:                          aws.String("subnet-a"),
		UserData:                          aws.String("IyEvYmluL2Jhc2g="),
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
		InstanceMarketOptions: &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypeOneTime,
				InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate}},
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}},
			{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}},
		},
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("tpl")}}); err != nil {
		t.Fatalf("RunInstances by template name: %v", err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id},
		Tags: []types.Tag{{Key: aws.String("extra"), Value: aws.String("1")}}}); err != nil {
		t.Fatalf("CreateTags: %v", err)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{
			{Name: aws.String("tag:k"), Values: []string{"v"}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending"}},
			{Name: aws.String("instance-id"), Values: []string{id}},
		},
		MaxResults: aws.Int32(5), NextToken: aws.String("0"),
	}); err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("DescribeInstances by id: %v", err)
	}
	if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: aws.String("ami-1")}); err != nil {
		t.Fatalf("RunInstances by image: %v", err)
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
}

func TestShapesMatchModel(t *testing.T) {
	t.Parallel()
	m := awsmodel.Load(t, "ec2")
	s := ec2fake.New(t, nil)
	exercise(t, s)
	reads := s.ParamsRead()
	for op := range ec2fake.ResponseTypes {
		if len(reads[op]) == 0 {
			t.Errorf("%s: exercise read no parameters", op)
		}
	}
	for op, ps := range reads {
		for _, p := range ps {
			if err := m.CheckInput(op, p); err != nil {
				t.Errorf("request: %v", err)
			}
		}
	}
	for op, v := range ec2fake.ResponseTypes {
		for _, err := range m.CheckOutput(op, v, "requestId", "return") {
			t.Errorf("response: %v", err)
		}
	}
}

// The checker itself must reject names the model lacks, or the test above proves nothing.
func TestModelCheckRejectsUnknownNames(t *testing.T) {
	t.Parallel()
	m := awsmodel.Load(t, "ec2")
	for _, p := range []string{"TagSpecifications.N.Tag.N.Key", "Filter.N.Values.N", "InstanceIds.N", "LaunchTemplate.Id"} {
		if err := m.CheckInput("RunInstances", p); err == nil {
			t.Errorf("CheckInput(RunInstances, %q) = nil, want an error", p)
		}
	}
	type bad struct {
		Instances []struct {
			ID string `xml:"instanceID"`
		} `xml:"instancesSet>item"`
	}
	if errs := m.CheckOutput("RunInstances", bad{}); len(errs) == 0 {
		t.Error("CheckOutput accepted <instanceID>, want an error")
	}
}

func TestIdempotentByClientToken(t *testing.T) {
	t.Parallel()
	s := ec2fake.New(t, nil)
	c := s.Client()
	in := &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: aws.String("ami-1"), ClientToken: aws.String("same")}
	a, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(b.Instances[0].InstanceId), aws.ToString(a.Instances[0].InstanceId); got != want {
		t.Errorf("second RunInstances started %s, want the first's %s", got, want)
	}
	if got := len(s.Instances()); got != 1 {
		t.Errorf("instances = %d, want 1", got)
	}
}

func TestErrorsAndFaults(t *testing.T) {
	t.Parallel()
	s := ec2fake.New(t, nil)
	c := s.Client(func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	spot := true
	s.Fail(ec2fake.Fault{Action: "RunInstances", Spot: &spot, Code: "InsufficientInstanceCapacity", Message: "no spot"})
	_, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: aws.String("ami-1"),
		InstanceMarketOptions: &types.InstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InsufficientInstanceCapacity" {
		t.Errorf("spot RunInstances error = %v, want InsufficientInstanceCapacity", err)
	}
	_, err = c.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{"i-gone"}})
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidInstanceID.NotFound" {
		t.Errorf("TerminateInstances(unknown) error = %v, want InvalidInstanceID.NotFound", err)
	}
	s.Throttle("DescribeInstances", 2)
	if _, err := s.Client().DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("DescribeInstances after 2 throttles with the standard retryer: %v", err)
	}
	n := 0
	for _, c := range s.Calls("") {
		if c.Action == "DescribeInstances" {
			n++
		}
	}
	if got, want := n, 3; got != want {
		t.Errorf("DescribeInstances calls = %d, want %d (two throttled, one answered)", got, want)
	}
	if !slices.ContainsFunc(s.Calls("RunInstances"), func(c ec2fake.Call) bool { return c.Params.Get("InstanceMarketOptions.MarketType") == "spot" }) {
		t.Error("RunInstances call with MarketType=spot not recorded")
	}
}
