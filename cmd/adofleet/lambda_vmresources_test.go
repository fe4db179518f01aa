package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/config"
)

// TestLambdaSQSHandler feeds `adofleet lambda`'s handler real events.SQSEvent payloads, chosen by
// their shape as the runtime delivers them: a termination whose ADO call fails comes back as a
// batch item failure (the event source mapping redelivers it alone), a poison message is moved to
// the dead-letter queue and not reported, and the redelivered termination then removes the VM
// resource and its hidden agent and releases the instance.
func TestLambdaSQSHandler(t *testing.T) {
	var adoDown atomic.Bool
	adoDown.Store(true)
	w := newVMWorld(t, adosim.ServerOptions{Faults: func(r *http.Request) *adosim.Fault {
		if adoDown.Load() && r.Method == http.MethodDelete {
			return &adosim.Fault{Status: http.StatusBadRequest, Message: "injected failure"}
		}
		return nil
	}})
	keep := w.asg.Launch(vmTestGroup)
	leave := w.asg.Launch(vmTestGroup)
	w.register(t, keep)
	w.register(t, leave)
	action, held := w.asg.ScaleIn(leave)
	if !held {
		t.Fatal("the termination hook did not hold the instance")
	}
	cfgPath := w.config(t)
	var logs bytes.Buffer
	h, err := newLambdaHandler("", func() (*config.Config, error) { return loadConfig(cfgPath) }, &logs)
	if err != nil {
		t.Fatal(err)
	}
	terminate := eventBridge(t, "EC2 Instance-terminate Lifecycle Action", map[string]string{
		"AutoScalingGroupName": vmTestGroup, "EC2InstanceId": leave, "LifecycleHookName": action.Hook,
		"LifecycleActionToken": action.Token, "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
	})
	invoke := func(records ...events.SQSMessage) events.SQSEventResponse {
		t.Helper()
		payload, err := json.Marshal(events.SQSEvent{Records: records})
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("Invoke: %v\nlogs:\n%s", err, logs.String())
		}
		resp, ok := out.(events.SQSEventResponse)
		if !ok {
			t.Fatalf("Invoke returned %T, want events.SQSEventResponse", out)
		}
		return resp
	}
	record := func(id, body string, receives string) events.SQSMessage {
		return events.SQSMessage{
			MessageId: id, ReceiptHandle: "rh-" + id, Body: body, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:lifecycle", AWSRegion: "eu-west-1",
			Attributes: map[string]string{"ApproximateReceiveCount": receives},
		}
	}

	resp := invoke(record("m-terminate", terminate, "1"), record("m-poison", "{not json", "1"))
	wire, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"batchItemFailures":[{"itemIdentifier":"m-terminate"}]}`, string(wire)); diff != "" {
		t.Errorf("first batch response (-want +got):\n%s", diff)
	}
	if dead := w.sqs.Messages("lifecycle-dlq"); len(dead) != 1 || dead[0].Body != "{not json" {
		t.Errorf("dead-letter queue = %+v, want the poison message", dead)
	}
	if got := w.resourceNames(t); !slices.Contains(got, leave) {
		t.Errorf("resources = %v after a failed deletion, want %s still there", got, leave)
	}

	adoDown.Store(false)
	resp = invoke(record("m-terminate", terminate, "2"))
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("redelivery failures = %+v, want none", resp.BatchItemFailures)
	}
	want := []string{keep}
	if got := w.resourceNames(t); !slices.Equal(got, want) {
		t.Errorf("resources = %v, want %v", got, want)
	}
	if got := w.hiddenAgents(t); !slices.Equal(got, want) {
		t.Errorf("hidden agents = %v, want %v", got, want)
	}
	if p := w.asg.Pending(); len(p) != 0 {
		t.Errorf("instances still held by the hook: %+v", p)
	}
	if strings.Contains(logs.String(), vmTestPAT) {
		t.Error("the handler logged the PAT")
	}
}

// TestLambdaSQSHandlerNeedsVMResources: without a vmResources section the whole batch fails, with
// a message that says what is missing.
func TestLambdaSQSHandlerNeedsVMResources(t *testing.T) {
	t.Parallel()
	load := func() (*config.Config, error) {
		return config.Parse("lambda.yaml", []byte("organization:\n  url: https://dev.azure.com/x\n  pat: env:X\nproviders:\n  local:\n    command: [a]\npools:\n  - name: p\n    provider: local\n    max: 1\n"))
	}
	h, err := newLambdaHandler(handlerSQS, load, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Invoke(context.Background(), json.RawMessage(`{"Records":[{"messageId":"1","body":"{}"}]}`))
	if err == nil || !strings.Contains(err.Error(), "no vmResources section") {
		t.Errorf("err = %v, want one naming the missing vmResources section", err)
	}
}

// TestLambdaScheduledReconcileVMResources: a deployment of the Environment part alone (no pools)
// gets the VM resource reconcile from its scheduled function: a resource whose instance EC2 has
// never heard of is removed, with its hidden agent, and the report comes back in the output; the
// next tick within reconcileInterval does not reconcile again.
func TestLambdaScheduledReconcileVMResources(t *testing.T) {
	w := newVMWorld(t, adosim.ServerOptions{})
	keep := w.asg.Launch(vmTestGroup)
	const vanished = "i-0abcdef0123456789"
	w.register(t, keep)
	w.register(t, vanished)
	cfgPath := w.config(t)
	var logs bytes.Buffer
	h, err := newLambdaHandler(handlerReconcile, func() (*config.Config, error) { return loadConfig(cfgPath) }, &logs)
	if err != nil {
		t.Fatal(err)
	}
	invoke := func() ReconcileOutput {
		t.Helper()
		out, err := h.Invoke(context.Background(), json.RawMessage(scheduledEvent))
		if err != nil {
			t.Fatalf("Invoke: %v\nlogs:\n%s", err, logs.String())
		}
		ro, ok := out.(ReconcileOutput)
		if !ok {
			t.Fatalf("Invoke returned %T, want ReconcileOutput", out)
		}
		return ro
	}
	first := invoke()
	if !strings.Contains(first.VMResources, vanished) {
		t.Errorf("first tick's report = %q, want it to name the removed %s", first.VMResources, vanished)
	}
	want := []string{keep}
	if got := w.resourceNames(t); !slices.Equal(got, want) {
		t.Errorf("resources = %v, want %v", got, want)
	}
	if got := w.hiddenAgents(t); !slices.Equal(got, want) {
		t.Errorf("hidden agents = %v, want %v", got, want)
	}
	if second := invoke(); second.VMResources != "" {
		t.Errorf("second tick within reconcileInterval reconciled again: %q", second.VMResources)
	}
	if strings.Contains(logs.String(), vmTestPAT) {
		t.Error("the handler logged the PAT")
	}
}

// TestLambdaSQSDeliversVMResourceEvents: a termination the sqs function handles publishes
// vmresource.deregistered, and the invocation delivers it to the Slack route before it returns;
// the route's URL appears in no log.
func TestLambdaSQSDeliversVMResourceEvents(t *testing.T) {
	w := newVMWorld(t, adosim.ServerOptions{})
	rv := newReceiver(t)
	t.Setenv("ADOFLEET_TEST_SLACK_URL", rv.URL+lambdaSlackPath)
	leave := w.asg.Launch(vmTestGroup)
	w.register(t, leave)
	action, held := w.asg.ScaleIn(leave)
	if !held {
		t.Fatal("the termination hook did not hold the instance")
	}
	base, err := os.ReadFile(w.config(t))
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "lambda-notify.yaml")
	routes := "notify:\n  routes:\n" + slackRoute + "\n"
	if err := os.WriteFile(cfgPath, append(base, routes...), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	h, err := newLambdaHandler("", func() (*config.Config, error) { return loadConfig(cfgPath) }, &logs)
	if err != nil {
		t.Fatal(err)
	}
	terminate := eventBridge(t, "EC2 Instance-terminate Lifecycle Action", map[string]string{
		"AutoScalingGroupName": vmTestGroup, "EC2InstanceId": leave, "LifecycleHookName": action.Hook,
		"LifecycleActionToken": action.Token, "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
	})
	payload, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "m-1", ReceiptHandle: "rh-1", Body: terminate, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:lifecycle", AWSRegion: "eu-west-1",
		Attributes: map[string]string{"ApproximateReceiveCount": "1"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("Invoke: %v\nlogs:\n%s", err, logs.String())
	}
	if resp := out.(events.SQSEventResponse); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch failures %+v, want none", resp.BatchItemFailures)
	}
	var delivered []string
	for _, rc := range rv.receipts() {
		if rc.path == lambdaSlackPath && strings.Contains(rc.body, leave) {
			delivered = append(delivered, rc.body)
		}
	}
	if len(delivered) != 1 || !strings.Contains(delivered[0], "removed from environment production") {
		t.Errorf("Slack got %q for %s, want one vmresource.deregistered message", delivered, leave)
	}
	if strings.Contains(logs.String(), lambdaSlackPath) {
		t.Error("the handler logged the Slack URL")
	}
}
