package ec2fake_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
)

// TestHooks: OnRunInstances sees each new instance with its tags (not a replay of its client
// token), OnTerminate each instance terminated (once), and both may call back into the fake.
func TestHooks(t *testing.T) {
	t.Parallel()
	s := ec2fake.New(t, nil)
	var (
		mu                 sync.Mutex
		started, stopped   []string
		agentTag, stateNow string
	)
	s.SetHooks(ec2fake.Hooks{
		OnRunInstances: func(in ec2fake.Instance) {
			cur, _ := s.Instance(in.ID) // no deadlock: hooks run outside the fake's lock
			mu.Lock()
			defer mu.Unlock()
			started = append(started, in.ID)
			agentTag, stateNow = in.Tags["adofleet:agent"], cur.State
		},
		OnTerminate: func(in ec2fake.Instance) {
			mu.Lock()
			defer mu.Unlock()
			stopped = append(stopped, in.ID+":"+in.State)
		},
	})
	ctx := context.Background()
	c := s.Client()
	in := &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: aws.String("ami-1"),
		ClientToken: aws.String("tok"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("adofleet:agent"), Value: aws.String("linux-001")}}}}}
	run, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunInstances(ctx, in); err != nil { // replay: no new instance, no hook
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	for range 2 { // the second terminate finds it terminated already: no hook
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{id}, started); diff != "" {
		t.Errorf("OnRunInstances calls (-want +got):\n%s", diff)
	}
	if agentTag != "linux-001" || stateNow != "pending" {
		t.Errorf("OnRunInstances saw tag %q, state %q; want linux-001, pending", agentTag, stateNow)
	}
	if diff := cmp.Diff([]string{id + ":terminated"}, stopped); diff != "" {
		t.Errorf("OnTerminate calls (-want +got):\n%s", diff)
	}
}
