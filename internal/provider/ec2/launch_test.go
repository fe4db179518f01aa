package ec2_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ec2"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
)

func TestLaunchTagsTokensAndUserData(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, func(o *ec2.Options) { o.TokenParameter = "/adofleet/agent-token" })
	insts, err := p.Launch(ctx, request("tok-1", "linux-a1", "linux-a2"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if got := len(insts); got != 2 {
		t.Fatalf("instances = %d, want 2", got)
	}
	byAgent := map[string]ec2fake.Instance{}
	for _, in := range fake.Instances() {
		byAgent[in.Tags[provider.TagAgent]] = in
	}
	for _, agent := range []string{"linux-a1", "linux-a2"} {
		in, ok := byAgent[agent]
		if !ok {
			t.Fatalf("no instance tagged for agent %s", agent)
		}
		wantTags := map[string]string{
			provider.TagPool: "linux", provider.TagController: controllerID, provider.TagAgent: agent,
			provider.TagToken: "tok-1", "Name": agent,
		}
		if diff := cmp.Diff(wantTags, in.Tags); diff != "" {
			t.Errorf("%s instance tags (-want +got):\n%s", agent, diff)
		}
		if diff := cmp.Diff(wantTags, in.VolumeTags); diff != "" {
			t.Errorf("%s volume tags (-want +got):\n%s", agent, diff)
		}
		if got, want := in.ClientToken, ec2.ClientToken("tok-1", agent, "on-demand/template-type/template-subnet"); got != want {
			t.Errorf("%s ClientToken = %q, want %q", agent, got, want)
		}
		if len(in.ClientToken) > 64 {
			t.Errorf("ClientToken is %d chars, EC2 allows 64", len(in.ClientToken))
		}
		if in.ShutdownBehavior != "terminate" || in.LaunchTemplateID != "lt-0abc" || in.TemplateVersion != "$Default" || in.Spot {
			t.Errorf("%s launched with shutdown=%q template=%q version=%q spot=%v, want terminate lt-0abc $Default on-demand",
				agent, in.ShutdownBehavior, in.LaunchTemplateID, in.TemplateVersion, in.Spot)
		}
		ud := decode(t, in.UserData)
		for _, want := range []string{"export AZP_AGENT_NAME='" + agent + "'", "export AZP_POOL='linux'", "export docker='1'",
			"--with-decryption", "'/adofleet/agent-token'", "./run.sh --once", "shutdown -h now"} {
			if !strings.Contains(ud, want) {
				t.Errorf("%s user data lacks %q", agent, want)
			}
		}
		if strings.Contains(ud, "s3cret-pat") || strings.Contains(ud, "export Agent.Weird") {
			t.Errorf("%s user data holds the token or an invalid variable name:\n%s", agent, ud)
		}
	}
}

func TestLaunchIsIdempotentPerToken(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, nil)
	first, err := p.Launch(ctx, request("tok-1", "a1", "a2"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	again, err := p.Launch(ctx, request("tok-1", "a1", "a2"))
	if err != nil {
		t.Fatalf("second Launch: %v", err)
	}
	if diff := cmp.Diff(ids(first), ids(again)); diff != "" {
		t.Errorf("second Launch ids (-first +second):\n%s", diff)
	}
	if got := len(fake.Calls("RunInstances")); got != 2 {
		t.Errorf("RunInstances calls = %d, want 2 (the repeat finds the instances by token tag)", got)
	}

	// A tag lookup that misses (eventual consistency) still starts nothing new: the ClientToken
	// of the same attempt makes EC2 return the instance it already started.
	if _, err := fake.Client().CreateTags(ctx, &awsec2.CreateTagsInput{Resources: ids(first)[:1],
		Tags: []types.Tag{{Key: aws.String(provider.TagToken), Value: aws.String("hidden")}}}); err != nil {
		t.Fatal(err)
	}
	third, err := p.Launch(ctx, request("tok-1", "a1", "a2"))
	if err != nil {
		t.Fatalf("third Launch: %v", err)
	}
	if diff := cmp.Diff(ids(first), ids(third)); diff != "" {
		t.Errorf("third Launch ids (-first +third):\n%s", diff)
	}
	if got := len(fake.Instances()); got != 2 {
		t.Errorf("instances = %d, want 2", got)
	}
}

func TestSpotFallsBackToOnDemand(t *testing.T) {
	t.Parallel()
	spot := true
	tests := []struct {
		name          string
		code          string
		wantSpotCalls int
	}{
		// A capacity error moves on through every spot override first.
		{"capacity", "InsufficientInstanceCapacity", 4},
		// Spot-wide errors go straight to on-demand.
		{"price", "SpotMaxPriceTooLow", 1},
		{"count", "MaxSpotInstanceCountExceeded", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, fake := newProvider(t, func(o *ec2.Options) {
				o.Spot = true
				o.InstanceTypes = []string{"m5.large", "m5a.large"}
				o.Subnets = []string{"subnet-a", "subnet-b"}
			})
			fake.Fail(ec2fake.Fault{Action: "RunInstances", Spot: &spot, Code: tt.code, Message: "no"})
			insts, err := p.Launch(ctx, request("tok", "a1"))
			if err != nil {
				t.Fatalf("Launch: %v", err)
			}
			in, _ := fake.Instance(insts[0].ID)
			if in.Spot || in.InstanceType != "m5.large" || in.SubnetID != "subnet-a" {
				t.Errorf("instance spot=%v type=%s subnet=%s, want on-demand m5.large subnet-a", in.Spot, in.InstanceType, in.SubnetID)
			}
			spotCalls := 0
			for _, c := range fake.Calls("RunInstances") {
				if c.Params.Get("InstanceMarketOptions.MarketType") == "spot" {
					spotCalls++
				}
			}
			if spotCalls != tt.wantSpotCalls {
				t.Errorf("spot RunInstances calls = %d, want %d", spotCalls, tt.wantSpotCalls)
			}
		})
	}
}

func TestSpotUsedWhenAvailable(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, func(o *ec2.Options) { o.Spot = true })
	insts, err := p.Launch(ctx, request("tok", "a1"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if in, _ := fake.Instance(insts[0].ID); !in.Spot {
		t.Error("instance is on-demand, want spot")
	}
}

func TestInstanceTypeOverrideOnCapacityError(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, func(o *ec2.Options) { o.InstanceTypes = []string{"c5.large", "c6i.large"} })
	fake.Fail(ec2fake.Fault{Action: "RunInstances", InstanceType: "c5.large", Code: "InsufficientInstanceCapacity"})
	insts, err := p.Launch(ctx, request("tok", "a1"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if in, _ := fake.Instance(insts[0].ID); in.InstanceType != "c6i.large" {
		t.Errorf("instance type = %s, want c6i.large", in.InstanceType)
	}
}

func TestCapacityExhaustedIsTyped(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, func(o *ec2.Options) {
		o.InstanceTypes = []string{"c5.large", "c6i.large"}
		o.Concurrency = 1 // the shortcut below is deterministic one agent at a time
	})
	fake.Fail(ec2fake.Fault{Action: "RunInstances", Code: "InsufficientInstanceCapacity"})
	insts, err := p.Launch(ctx, request("tok", "a1", "a2", "a3"))
	if len(insts) != 0 {
		t.Errorf("instances = %v, want none", ids(insts))
	}
	var partial *provider.PartialError
	if !errors.As(err, &partial) || !errors.Is(err, provider.ErrInsufficientCapacity) {
		t.Fatalf("Launch error = %v, want a *PartialError of ErrInsufficientCapacity", err)
	}
	for _, a := range []string{"a1", "a2", "a3"} {
		if !errors.Is(partial.Failed[a], provider.ErrInsufficientCapacity) {
			t.Errorf("agent %s error = %v, want ErrInsufficientCapacity", a, partial.Failed[a])
		}
	}
	if got := len(fake.Calls("RunInstances")); got != 2 {
		t.Errorf("RunInstances calls = %d, want 2 (both types for the first agent, none after)", got)
	}
}

func TestPartialFailure(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, nil)
	fake.Fail(ec2fake.Fault{Action: "RunInstances", TagKey: provider.TagAgent, TagValue: "a2",
		Code: "InvalidParameterValue", Message: "bad"})
	insts, err := p.Launch(ctx, request("tok", "a1", "a2", "a3"))
	var partial *provider.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("Launch error = %v, want *PartialError", err)
	}
	if got, want := len(partial.Failed), 1; got != want {
		t.Errorf("failed agents = %d, want %d", got, want)
	}
	if !errors.Is(partial.Failed["a2"], provider.ErrInvalidRequest) {
		t.Errorf("a2 error = %v, want ErrInvalidRequest", partial.Failed["a2"])
	}
	var agents []string
	for _, in := range insts {
		agents = append(agents, in.AgentName)
	}
	if diff := cmp.Diff([]string{"a1", "a3"}, sorted(agents)); diff != "" {
		t.Errorf("started agents (-want +got):\n%s", diff)
	}
}

func TestThrottlingRetriedBySDK(t *testing.T) {
	t.Parallel()
	p, fake := newProvider(t, nil)
	fake.Throttle("RunInstances", 2)
	fake.Throttle("DescribeInstances", 1)
	insts, err := p.Launch(ctx, request("tok", "a1"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if len(insts) != 1 {
		t.Fatalf("instances = %d, want 1", len(insts))
	}
	if got := len(fake.Calls("RunInstances")); got != 3 {
		t.Errorf("RunInstances calls = %d, want 3 (two throttled)", got)
	}
	if got := len(fake.Instances()); got != 1 {
		t.Errorf("instances = %d, want 1", got)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	fake := ec2fake.New(t, nil)
	tests := []struct {
		name string
		opts ec2.Options
	}{
		{"no client", ec2.Options{LaunchTemplate: ec2.LaunchTemplate{ID: "lt-1"}}},
		{"no template", ec2.Options{EC2: fake.Client()}},
		{"both template id and name", ec2.Options{EC2: fake.Client(), LaunchTemplate: ec2.LaunchTemplate{ID: "lt-1", Name: "x"}}},
		{"asg without group", ec2.Options{EC2: fake.Client(), Mode: "asg"}},
		{"unknown mode", ec2.Options{EC2: fake.Client(), Mode: "fleet", LaunchTemplate: ec2.LaunchTemplate{ID: "lt-1"}}},
		{"bad template", ec2.Options{EC2: fake.Client(), LaunchTemplate: ec2.LaunchTemplate{ID: "lt-1"}, UserData: "{{.Nope"}},
	}
	for _, tt := range tests {
		if _, err := ec2.New(tt.opts); err == nil {
			t.Errorf("%s: New = nil error, want one", tt.name)
		}
	}
}
