package vmresource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
	"github.com/adofleet/adofleet/internal/provider/ec2/asgfake"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/vmresource"
	"github.com/adofleet/adofleet/internal/vmresource/sqsfake"
)

const (
	testPAT  = "pat-vmresource-test"
	project  = "web"
	envName  = "production"
	hookASG  = "web-hooked" // has a termination lifecycle hook
	hookName = "deregister"
	plainASG = "web-plain" // has none
)

// harness is an ADO simulator over HTTP, the EC2 and Auto Scaling fakes, an SQS fake with a
// virtual clock and a real SQLite store, wired into a Manager.
type harness struct {
	org    *adosim.Org
	srv    *adosim.Server
	url    string
	client *ado.Client
	envID  int
	poolID int
	ec2    *ec2fake.Server
	asg    *asgfake.Server
	sqs    *sqsfake.Server
	clock  *sqsfake.Clock
	queue  string
	dlq    string
	store  *sqlite.Store
	events *notifytest.Recorder
	reg    *prometheus.Registry
	m      *vmresource.Manager
}

func newHarness(t *testing.T, edit func(*vmresource.Options)) *harness {
	t.Helper()
	ctx := t.Context()
	h := &harness{org: adosim.NewOrg(adosim.OrgOptions{Name: "fabrikam", Project: project, Seed: 5}), events: &notifytest.Recorder{},
		reg: prometheus.NewRegistry()}
	var err error
	if h.envID, err = h.org.AddEnvironment(project, envName); err != nil {
		t.Fatal(err)
	}
	h.srv = adosim.NewServer(h.org, adosim.ServerOptions{PAT: testPAT})
	run, err := h.srv.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Close() })
	h.url = run.URL
	h.client, err = ado.New(ado.Options{OrgURL: h.url, PAT: testPAT,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := h.client.GetEnvironmentDeploymentPool(ctx, project, h.envID)
	if err != nil {
		t.Fatal(err)
	}
	h.poolID = pool.ID

	h.ec2 = ec2fake.New(t, nil)
	h.asg = asgfake.New(t, h.ec2)
	h.asg.AddGroup(hookASG, 0, 5000)
	h.asg.AddGroup(plainASG, 0, 5000)
	h.asg.AddGroup("other", 0, 10)
	h.asg.PutTerminationHook(hookASG, hookName)

	h.clock = sqsfake.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	h.sqs = sqsfake.New(t, sqsfake.Options{Now: h.clock.Now, LongPollLimit: 20 * time.Millisecond})
	h.queue = h.sqs.CreateQueue("lifecycle")
	h.dlq = h.sqs.CreateQueue("lifecycle-dlq")

	h.store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.store.Close() })

	o := vmresource.Options{
		ADO: h.client, EC2: h.ec2.Client(), AutoScaling: h.asg.Client(), Store: h.store,
		Targets: []vmresource.Target{{Project: project, Environment: envName,
			AutoScalingGroups: []string{hookASG, plainASG}, Tags: []string{"web", "linux"}}},
		Events: h.events, Logger: testLogger(t), Registerer: h.reg, Now: h.clock.Now,
	}
	if edit != nil {
		edit(&o)
	}
	if h.m, err = vmresource.New(o); err != nil {
		t.Fatal(err)
	}
	return h
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// launch starts an instance in group and, when register is true, lets it register itself as a
// VM resource over HTTP as its user data would.
func (h *harness) launch(t *testing.T, group string, register bool) string {
	t.Helper()
	id := h.asg.Launch(group)
	if register {
		h.register(t, id)
	}
	return id
}

func (h *harness) register(t *testing.T, id string) adosim.VMRegistered {
	t.Helper()
	got, err := adosim.RegisterVMResource(t.Context(), adosim.VMRegistration{OrgURL: h.url, Token: testPAT,
		Project: project, Environment: envName, Name: id, Tags: []string{"web", "linux"}})
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	return got
}

// resources returns the Environment's VM resource names, sorted.
func (h *harness) resources(t *testing.T) []string {
	t.Helper()
	rs, err := h.org.VMResources(project, h.envID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

// poolAgents returns the names of the agents in the Environment's deployment pool, sorted.
func (h *harness) poolAgents(t *testing.T) []string {
	t.Helper()
	agents, err := h.client.ListAgents(t.Context(), h.poolID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range agents {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

func (h *harness) send(t *testing.T, body string) {
	t.Helper()
	if _, err := h.sqs.Client().SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(h.queue), MessageBody: aws.String(body)}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
}

func (h *harness) consumer(t *testing.T, maxReceives int) *vmresource.Consumer {
	return &vmresource.Consumer{SQS: h.sqs.Client(), QueueURL: h.queue, DeadLetterURL: h.dlq, MaxReceives: maxReceives,
		WaitTime: 20 * time.Second, VisibilityTimeout: 12 * time.Hour, Manager: h.m, Logger: testLogger(t)}
}

// drain runs the consumer until the queue is empty. Messages waiting out a backoff are made
// visible by advancing the virtual clock; in-flight messages hold a 12-hour visibility, far more
// than any backoff, so advancing never hands a message being handled to a second worker.
func (h *harness) drain(t *testing.T, c *vmresource.Consumer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not an assertion on speed
	for time.Now().Before(deadline) {
		msgs := h.sqs.Messages("lifecycle")
		if len(msgs) == 0 {
			return
		}
		backingOff := false
		for _, m := range msgs {
			backingOff = backingOff || m.BackingOff
		}
		if backingOff {
			h.clock.Advance(15 * time.Minute)
			h.sqs.Wake()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("queue not drained: %d messages left", len(h.sqs.Messages("lifecycle")))
}

// Message bodies in each shape.

func hookNotification(transition, group, id, hook, token string) string {
	return mustJSON(map[string]string{
		"Origin": "EC2", "Destination": "AutoScalingGroup", "Service": "AWS Auto Scaling", "Time": "2026-03-01T12:00:00.000Z",
		"RequestId": "req-" + id, "LifecycleActionToken": token, "AccountId": "123456789012", "AutoScalingGroupName": group,
		"LifecycleHookName": hook, "EC2InstanceId": id, "LifecycleTransition": transition,
	})
}

func snsEnvelope(message string) string {
	return mustJSON(map[string]string{
		"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:lifecycle",
		"Subject": "Auto Scaling: Lifecycle action", "Message": message, "Timestamp": "2026-03-01T12:00:00.000Z",
		"SignatureVersion": "1", "Signature": "c2ln", "SigningCertURL": "https://sns.example/cert.pem",
		"UnsubscribeURL": "https://sns.example/unsubscribe",
	})
}

func eventBridge(detailType string, detail map[string]string) string {
	return mustJSON(map[string]any{
		"version": "0", "id": "eb-1", "detail-type": detailType, "source": "aws.autoscaling", "account": "123456789012",
		"time": "2026-03-01T12:00:00Z", "region": "us-east-1", "resources": []string{"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup"},
		"detail": detail,
	})
}

func ebLifecycle(kind, group, id, hook, token string) string {
	dt, tr := "EC2 Instance-launch Lifecycle Action", "autoscaling:EC2_INSTANCE_LAUNCHING"
	if kind == "terminate" {
		dt, tr = "EC2 Instance-terminate Lifecycle Action", "autoscaling:EC2_INSTANCE_TERMINATING"
	}
	return eventBridge(dt, map[string]string{"LifecycleActionToken": token, "AutoScalingGroupName": group,
		"LifecycleHookName": hook, "EC2InstanceId": id, "LifecycleTransition": tr, "Origin": "EC2", "Destination": "AutoScalingGroup"})
}

func ebSuccessful(kind, group, id string) string {
	dt := "EC2 Instance Launch Successful"
	if kind == "terminate" {
		dt = "EC2 Instance Terminate Successful"
	}
	return eventBridge(dt, map[string]string{"StatusCode": "InProgress", "AutoScalingGroupName": group, "ActivityId": "act-" + id,
		"RequestId": "req-" + id, "EC2InstanceId": id, "Cause": "scaling", "Description": kind + " of " + id})
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(data)
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func adosimSpec(name string) adosim.VMSpec {
	return adosim.VMSpec{Name: name, Tags: []string{"manual"}}
}

// metricValue sums the series of a metric family on the harness's registry.
func metricValue(t *testing.T, h *harness, name string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return v
}

// srvFaults makes the simulator fail or delay the calls f picks.
func (h *harness) srvFaults(t *testing.T, f adosim.FaultFunc) {
	t.Helper()
	h.srv.SetFaults(f)
}
