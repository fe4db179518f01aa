package vmresource_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

var acceptanceSeed = flag.Uint64("vmresource.seed", 0, "seed of TestThousandShuffledEvents (0: random)")

// TestThousandShuffledEvents is issue 5's acceptance run: instances launch in a hooked and an
// unhooked group and register themselves; most are then scaled in (held in Terminating:Wait where
// a hook exists), with their tags gone. 1,000 events describing all this, in every shape (hook
// notification, through SNS, EventBridge lifecycle action and launch/terminate successful),
// duplicated and shuffled, with ADO failing a few calls, go through the real consumers. At the
// end the Environment holds exactly the running instances, the deployment pool has no hidden
// agent of a gone instance, and no instance is left waiting on its lifecycle hook.
func TestThousandShuffledEvents(t *testing.T) {
	t.Parallel()
	seed := *acceptanceSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d (rerun with -vmresource.seed=%d)", seed, seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, 1))
	h := newHarness(t, nil)

	const instances, events = 300, 1000
	var running, gone []string
	var base []string
	for i := range instances {
		group := plainASG
		if i%2 == 0 {
			group = hookASG
		}
		id := h.launch(t, group, true)
		base = append(base, launchEvent(rng, group, id))
		if rng.IntN(100) < 60 {
			gone = append(gone, id)
			action, held := h.asg.ScaleIn(id)
			h.ec2.ClearTags(id)
			base = append(base, terminateEvent(rng, group, id, action.Token, held))
		} else {
			running = append(running, id)
		}
	}
	all := append([]string{}, base...)
	for len(all) < events {
		all = append(all, base[rng.IntN(len(base))])
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, body := range all {
		h.send(t, body)
	}

	// ADO fails about 3% of calls; most are absorbed by the client's retries, the rest by the
	// consumer's redelivery.
	var mu sync.Mutex
	frng := rand.New(rand.NewPCG(seed, 2))
	h.srvFaults(t, func(*http.Request) *adosim.Fault {
		mu.Lock()
		defer mu.Unlock()
		if frng.IntN(100) < 3 {
			return &adosim.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})

	ctx, cancel := context.WithCancel(t.Context())
	second := h.consumer(t, 10)
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	h.drain(t, h.consumer(t, 10))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("second consumer: %v", err)
	}
	h.srvFaults(t, nil)

	if dead := h.sqs.Messages("lifecycle-dlq"); len(dead) != 0 {
		t.Errorf("%d messages dead-lettered, want 0; first reason: %s", len(dead), dead[0].Attributes["adofleet-reason"].StringValue)
	}
	want := sorted(running...)
	if diff := cmp.Diff(want, h.resources(t)); diff != "" {
		t.Errorf("Environment resources differ from the running instances (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, h.poolAgents(t)); diff != "" {
		t.Errorf("deployment pool agents differ from the running instances (-want +got):\n%s", diff)
	}
	if p := h.asg.Pending(); len(p) != 0 {
		t.Errorf("%d instances still held in Terminating:Wait, first %+v", len(p), p[0])
	}
	for _, id := range gone {
		if in, _ := h.ec2.Instance(id); in.State != "terminated" {
			t.Errorf("instance %s: state %q, want terminated", id, in.State)
			break
		}
	}
	if got := metricValue(t, h, "adofleet_vmresource_events_total"); got < events {
		t.Errorf("events_total = %v, want at least %d", got, events)
	}
}

// launchEvent describes a launch in one of the shapes, picked at random.
func launchEvent(rng *rand.Rand, group, id string) string {
	switch rng.IntN(4) {
	case 0:
		return hookNotification("autoscaling:EC2_INSTANCE_LAUNCHING", group, id, "launching", "tok-launch-"+id)
	case 1:
		return snsEnvelope(hookNotification("autoscaling:EC2_INSTANCE_LAUNCHING", group, id, "launching", "tok-launch-"+id))
	case 2:
		return ebLifecycle("launch", group, id, "launching", "tok-launch-"+id)
	default:
		return ebSuccessful("launch", group, id)
	}
}

// terminateEvent describes a termination: through the hook (three shapes) when one holds the
// instance, else as a terminate-successful event or a group notification.
func terminateEvent(rng *rand.Rand, group, id, token string, held bool) string {
	if held {
		switch rng.IntN(3) {
		case 0:
			return hookNotification("autoscaling:EC2_INSTANCE_TERMINATING", group, id, hookName, token)
		case 1:
			return snsEnvelope(hookNotification("autoscaling:EC2_INSTANCE_TERMINATING", group, id, hookName, token))
		default:
			return ebLifecycle("terminate", group, id, hookName, token)
		}
	}
	if rng.IntN(2) == 0 {
		return ebSuccessful("terminate", group, id)
	}
	return snsEnvelope(fmt.Sprintf(`{"Event":"autoscaling:EC2_INSTANCE_TERMINATE","AutoScalingGroupName":%q,"EC2InstanceId":%q}`, group, id))
}
