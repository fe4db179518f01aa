package vmresource

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/store"
)

// errUnreachable is what every dependency of the fuzzed Manager answers: the properties are
// about whether it is called, not about what it does.
var errUnreachable = errors.New("fuzz: dependency not reachable")

// touched counts the calls a Manager made to its ADO, EC2, Auto Scaling and store.
type touched struct{ n atomic.Int64 }

func (c *touched) hit() error { c.n.Add(1); return errUnreachable }

type fuzzADO struct{ *touched }

func (f fuzzADO) FindEnvironment(context.Context, string, string) (ado.Environment, error) {
	return ado.Environment{}, f.hit()
}
func (f fuzzADO) ListVMResources(context.Context, string, int) ([]ado.VMResource, error) {
	return nil, f.hit()
}
func (f fuzzADO) FindVMResources(context.Context, string, int, string) ([]ado.VMResource, error) {
	return nil, f.hit()
}
func (f fuzzADO) DeleteVMResource(context.Context, string, int, int) error { return f.hit() }
func (f fuzzADO) GetEnvironmentDeploymentPool(context.Context, string, int) (ado.Pool, error) {
	return ado.Pool{}, f.hit()
}
func (f fuzzADO) ListAgents(context.Context, int) ([]ado.Agent, error)         { return nil, f.hit() }
func (f fuzzADO) FindAgents(context.Context, int, string) ([]ado.Agent, error) { return nil, f.hit() }
func (f fuzzADO) DeleteAgent(context.Context, int, int) error                  { return f.hit() }
func (f fuzzADO) CreateVM(context.Context, store.VMRecord) error               { return f.hit() }
func (f fuzzADO) GetVM(context.Context, string) (store.VMRecord, error) {
	return store.VMRecord{}, f.hit()
}
func (f fuzzADO) UpdateVM(context.Context, store.VMRecord) (store.VMRecord, error) {
	return store.VMRecord{}, f.hit()
}
func (f fuzzADO) ListVMs(context.Context, store.VMFilter) ([]store.VMRecord, error) {
	return nil, f.hit()
}
func (f fuzzADO) DeleteVM(context.Context, string) error { return f.hit() }
func (f fuzzADO) DescribeInstances(context.Context, *awsec2.DescribeInstancesInput, ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error) {
	return nil, f.hit()
}
func (f fuzzADO) CompleteLifecycleAction(context.Context, *autoscaling.CompleteLifecycleActionInput, ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error) {
	return nil, f.hit()
}
func (f fuzzADO) DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return nil, f.hit()
}

const fuzzGroup = "web-asg"

func addEventSeeds(f *testing.F) {
	hook := `{"LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING","AutoScalingGroupName":"web-asg","EC2InstanceId":"i-0abc","LifecycleHookName":"deregister","LifecycleActionToken":"tok"}`
	msg, _ := json.Marshal(hook)
	for _, s := range []string{
		hook,
		`{"Type":"Notification","Message":` + string(msg) + `}`,
		`{"Event":"autoscaling:TEST_NOTIFICATION","AutoScalingGroupName":"web-asg"}`,
		`{"Event":"autoscaling:EC2_INSTANCE_LAUNCH","AutoScalingGroupName":"other","EC2InstanceId":"i-1"}`,
		`{"source":"aws.autoscaling","detail-type":"EC2 Instance-launch Lifecycle Action","detail":{"AutoScalingGroupName":"web-asg","EC2InstanceId":"i-2","LifecycleHookName":"h"}}`,
		`{"source":"aws.autoscaling","detail-type":"EC2 Instance Terminate Successful","detail":{"AutoScalingGroupName":"web-asg","EC2InstanceId":"i-3"}}`,
		`{"source":"aws.ec2","detail-type":"x","detail":{}}`,
		`{"Type":"SubscriptionConfirmation","Message":"{}"}`,
		`{"LifecycleTransition":"autoscaling:EC2_INSTANCE_LAUNCHING","AutoScalingGroupName":" ","EC2InstanceId":"x-1"}`,
		`{"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"}`,
		``, `null`, `[]`, `"x"`, `{"detail-type":1}`,
	} {
		f.Add(s)
	}
}

// FuzzLifecycleMessage: any SQS message body, in any of the hook, SNS and EventBridge shapes, is
// either an event (a launch or termination of an i- instance in a named group, that reads back
// the same when written out again as a hook or group notification, bare or through SNS), a
// message ignored on purpose, or poison whose error says what is wrong; and neither poison nor
// an ignored message, nor an event for a group no environment has, touches ADO, AWS or the store.
func FuzzLifecycleMessage(f *testing.F) {
	addEventSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		ev, ignore, err := parse(body)
		calls := &touched{}
		deps := fuzzADO{calls}
		m, merr := New(Options{ADO: deps, EC2: deps, AutoScaling: deps, Store: deps,
			Targets: []Target{{Project: "web", Environment: "prod", AutoScalingGroups: []string{fuzzGroup}}}})
		if merr != nil {
			t.Fatal(merr)
		}
		herr := m.HandleMessage(t.Context(), body)
		switch {
		case err != nil:
			if !errors.Is(err, ErrPoison) || ignore != "" || ev != (event{}) {
				t.Fatalf("parse: got event %+v, ignore %q and error %v: want only an error wrapping ErrPoison", ev, ignore, err)
			}
			if why := strings.TrimPrefix(err.Error(), ErrPoison.Error()+": "); why == "" || why == err.Error() {
				t.Errorf("poison error %q says nothing of what is wrong", err)
			}
			if !errors.Is(herr, ErrPoison) {
				t.Errorf("HandleMessage of poison: got %v, want ErrPoison", herr)
			}
		case ignore != "":
			if ev != (event{}) || herr != nil {
				t.Fatalf("ignored (%s): got event %+v and HandleMessage error %v, want neither", ignore, ev, herr)
			}
		default:
			checkEvent(t, ev)
			if ev.Group != fuzzGroup {
				if herr != nil {
					t.Errorf("event for an unconfigured group: HandleMessage error %v, want nil", herr)
				}
				break
			}
			if herr == nil || errors.Is(herr, ErrPoison) || !errors.Is(herr, errUnreachable) {
				t.Errorf("event with its dependencies down: HandleMessage error %v, want a retryable error", herr)
			}
			return // a handled event is meant to touch them
		}
		if n := calls.n.Load(); n != 0 {
			t.Errorf("a message not acted on made %d calls to ADO, AWS or the store", n)
		}
	})
}

func checkEvent(t *testing.T, ev event) {
	t.Helper()
	if (ev.Kind != kindLaunch && ev.Kind != kindTerminate) || strings.TrimSpace(ev.Group) == "" ||
		!strings.HasPrefix(ev.InstanceID, "i-") {
		t.Fatalf("event %+v: want a launch or termination of an i- instance in a named group", ev)
	}
	if ev.Shape != "hook" && ev.Shape != "sns" && ev.Shape != "eventbridge" {
		t.Errorf("event shape %q", ev.Shape)
	}
	// Written out again as the notification it stands for, it reads back the same.
	fields := map[string]string{"AutoScalingGroupName": ev.Group, "EC2InstanceId": ev.InstanceID}
	switch {
	case ev.Hook != "":
		fields["LifecycleHookName"], fields["LifecycleActionToken"] = ev.Hook, ev.Token
		fields["LifecycleTransition"] = map[kind]string{kindLaunch: transitionLaunching, kindTerminate: transitionTerminating}[ev.Kind]
	case ev.Token != "":
		t.Errorf("event %+v has a token but no hook", ev)
	default:
		fields["Event"] = map[kind]string{kindLaunch: groupLaunch, kindTerminate: groupTerminate}[ev.Kind]
	}
	bare, _ := json.Marshal(fields)
	sns, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": string(bare)})
	for shape, body := range map[string][]byte{"hook": bare, "sns": sns} {
		got, ignore, err := parse(string(body))
		want := ev
		want.Shape = shape
		if err != nil || ignore != "" || got != want {
			t.Errorf("event %+v written out as %s: got %+v, ignore %q, error %v", ev, body, got, ignore, err)
		}
	}
}
