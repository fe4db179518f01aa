package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/provider/ec2/asgfake"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/vmresource/sqsfake"
)

// vmWorld is an ADO Environment in the simulator and an Auto Scaling group with a termination
// hook in the EC2 and Auto Scaling fakes, with the lifecycle queue and its dead-letter queue.
type vmWorld struct {
	h        *simHarness
	project  string
	envID    int
	ec2      *ec2fake.Server
	asg      *asgfake.Server
	sqs      *sqsfake.Server
	queue    string
	dlq      string
	hookName string
}

const (
	vmTestPAT   = "serve-vm-pat-0123456789abcdef"
	vmTestGroup = "web-prod"
)

// newVMWorld builds the world; opts are the simulator's (its PAT is set here).
func newVMWorld(t *testing.T, opts adosim.ServerOptions) *vmWorld {
	t.Helper()
	awsTestEnv(t)
	t.Setenv("ADOFLEET_TEST_VM_PAT", vmTestPAT)
	opts.PAT = vmTestPAT
	w := &vmWorld{h: newSimHarness(t, "build", opts), hookName: "adofleet-deregister"}
	w.project = w.h.org.DefaultProject()
	var err error
	if w.envID, err = w.h.org.AddEnvironment(w.project, "production"); err != nil {
		t.Fatal(err)
	}
	w.ec2 = ec2fake.New(t, nil)
	w.asg = asgfake.New(t, w.ec2)
	w.asg.AddGroup(vmTestGroup, 0, 10)
	w.asg.PutTerminationHook(vmTestGroup, w.hookName)
	w.sqs = sqsfake.New(t, sqsfake.Options{})
	w.queue = w.sqs.CreateQueue("lifecycle")
	w.dlq = w.sqs.CreateQueue("lifecycle-dlq")
	return w
}

// config is the serve config of the world: vmResources alone, no pool, as a deployment that
// only keeps Environments in step.
func (w *vmWorld) config(t *testing.T) string {
	return w.h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_VM_PAT
controller:
  id: serve-vm
  resync: 300ms
  logLevel: info
store:
  sqlite:
    path: {state}
web:
  listen: "off"
aws:
  region: eu-west-1
vmResources:
  queueUrl: {queue}
  deadLetterQueueUrl: {dlq}
  maxReceives: 3
  sqsEndpoint: {sqs}
  ec2Endpoint: {ec2}
  autoScalingEndpoint: {asg}
  environments:
    - project: {project}
      environment: production
      autoScalingGroups: [`+vmTestGroup+`]
      tags: [web]
`, "{queue}", w.queue, "{dlq}", w.dlq, "{sqs}", w.sqs.URL, "{ec2}", w.ec2.URL, "{asg}", w.asg.URL, "{project}", w.project)
}

// register adds the instance's VM resource, as its user data's config.sh does, and returns its id.
func (w *vmWorld) register(t *testing.T, instanceID string) int {
	t.Helper()
	id, err := w.h.org.AddVMResource(w.project, w.envID, adosim.VMSpec{Name: instanceID, Tags: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// send puts an EventBridge Auto Scaling event on the lifecycle queue.
func (w *vmWorld) send(t *testing.T, body string) {
	t.Helper()
	if _, err := w.sqs.Client().SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(w.queue), MessageBody: aws.String(body),
	}); err != nil {
		t.Fatal(err)
	}
}

// eventBridge is an Auto Scaling event as EventBridge delivers it to SQS.
func eventBridge(t *testing.T, detailType string, detail map[string]string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "source": "aws.autoscaling",
		"account": "123456789012", "time": "2026-01-02T03:04:05Z", "region": "eu-west-1",
		"detail-type": detailType, "resources": []string{}, "detail": detail,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// resourceNames are the Environment's VM resource names.
func (w *vmWorld) resourceNames(t *testing.T) []string {
	t.Helper()
	res, err := w.h.org.VMResources(w.project, w.envID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

// hiddenAgents are the agent names in the Environment's deployment pool.
func (w *vmWorld) hiddenAgents(t *testing.T) []string {
	t.Helper()
	env, err := w.h.org.Environment(w.project, w.envID)
	if err != nil {
		t.Fatal(err)
	}
	var pool string
	for _, p := range w.h.org.Pools() {
		if p.ID == env.PoolID {
			pool = p.Name
		}
	}
	var out []string
	for _, a := range w.h.org.Agents(pool) {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

// TestServeFollowsAutoScalingGroups runs `adofleet serve` with vmResources against the simulator
// and the AWS fakes: a scale-in held by the termination hook has its VM resource and hidden agent
// removed and its lifecycle action completed; a resource whose instance vanished is removed by the
// reconcile at start; a poison message goes to the dead-letter queue; the running instance keeps
// its resource; and the queue ends empty.
func TestServeFollowsAutoScalingGroups(t *testing.T) {
	w := newVMWorld(t, adosim.ServerOptions{})
	keep := w.asg.Launch(vmTestGroup)
	leave := w.asg.Launch(vmTestGroup)
	const vanished = "i-0123456789abcdef0" // registered, but EC2 has never heard of it
	for _, id := range []string{keep, leave, vanished} {
		w.register(t, id)
	}
	action, held := w.asg.ScaleIn(leave)
	if !held {
		t.Fatal("the termination hook did not hold the instance")
	}
	for _, id := range []string{keep, leave} {
		w.send(t, eventBridge(t, "EC2 Instance Launch Successful", map[string]string{
			"AutoScalingGroupName": vmTestGroup, "EC2InstanceId": id,
		}))
	}
	w.send(t, eventBridge(t, "EC2 Instance-terminate Lifecycle Action", map[string]string{
		"AutoScalingGroupName": vmTestGroup, "EC2InstanceId": leave, "LifecycleHookName": action.Hook,
		"LifecycleActionToken": action.Token, "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
	}))
	w.send(t, "this is not an event")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := startServe(t, ctx, w.config(t))
	want := []string{keep}
	run.waitFor(t, ctx, "the environment reduced to the running instance, the hook released, the queue drained", func() bool {
		return slices.Equal(w.resourceNames(t), want) && slices.Equal(w.hiddenAgents(t), want) &&
			len(w.asg.Pending()) == 0 && len(w.sqs.Messages("lifecycle")) == 0 && len(w.sqs.Messages("lifecycle-dlq")) == 1
	})
	stderr := run.shutdown(t)

	dead := w.sqs.Messages("lifecycle-dlq")
	if dead[0].Body != "this is not an event" {
		t.Errorf("dead-lettered body = %q, want the poison message", dead[0].Body)
	}
	// Completing an action twice is harmless (the second finds it gone); each call must release
	// the held instance with CONTINUE.
	calls := w.asg.Calls("CompleteLifecycleAction")
	if len(calls) == 0 {
		t.Error("CompleteLifecycleAction was never called")
	}
	for _, c := range calls {
		p := func(k string) string { return strings.Join(c.Params[k], ",") }
		if p("InstanceId") != leave || p("LifecycleActionToken") != action.Token ||
			p("LifecycleHookName") != action.Hook || p("LifecycleActionResult") != "CONTINUE" {
			t.Errorf("CompleteLifecycleAction %v; want instance %s, token %s, hook %s, CONTINUE", c.Params, leave, action.Token, action.Hook)
		}
	}
	if strings.Contains(stderr, vmTestPAT) {
		t.Error("serve logged the PAT")
	}
}

// TestVMResourcesReconcileCommand runs `adofleet vmresources reconcile`: --dry-run reports the
// resource whose instance is gone and the running instance with no resource, and changes
// nothing; without it the resource and its hidden agent are removed.
func TestVMResourcesReconcileCommand(t *testing.T) {
	w := newVMWorld(t, adosim.ServerOptions{})
	running := w.asg.Launch(vmTestGroup)
	unregistered := w.asg.Launch(vmTestGroup)
	const vanished = "i-0fedcba9876543210"
	w.register(t, running)
	w.register(t, vanished)
	cfg := w.config(t)
	ctx := context.Background()

	out, stderr, err := runCLI(ctx, "vmresources", "reconcile", "-c", cfg, "--dry-run")
	if err != nil {
		t.Fatalf("reconcile --dry-run: %v\n%s", err, stderr)
	}
	for _, want := range []string{"dry run: nothing was changed", "would remove", vanished, "missing from", unregistered} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run report lacks %q:\n%s", want, out)
		}
	}
	if got := w.resourceNames(t); !slices.Contains(got, vanished) {
		t.Errorf("after --dry-run the resources are %v; want %s still there", got, vanished)
	}

	out, stderr, err = runCLI(ctx, "vmresources", "reconcile", "-c", cfg)
	if err != nil {
		t.Fatalf("reconcile: %v\n%s", err, stderr)
	}
	if strings.Contains(out, "dry run") || !strings.Contains(out, "removed") {
		t.Errorf("report:\n%s\nwant the removal reported, not a dry run", out)
	}
	want := []string{running}
	if got := w.resourceNames(t); !slices.Equal(got, want) {
		t.Errorf("resources after reconcile = %v, want %v", got, want)
	}
	if got := w.hiddenAgents(t); !slices.Equal(got, want) {
		t.Errorf("hidden agents after reconcile = %v, want %v", got, want)
	}
}
