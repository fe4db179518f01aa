package vmresource_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/vmresource"
)

// TestConsumerDeadLettersPoisonAndRepeatedFailures runs the real consumer against the SQS fake:
// a handled event is deleted; garbage goes to the dead-letter queue at once; an event that keeps
// failing is retried with backoff and dead-lettered on its MaxReceives-th delivery.
func TestConsumerDeadLettersPoisonAndRepeatedFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.launch(t, plainASG, true)
	failing := h.launch(t, plainASG, true)

	// Every lookup of the failing instance's resource answers 500.
	h.srvFaults(t, func(r *http.Request) *adosim.Fault {
		if r.URL.Query().Get("name") == failing {
			return &adosim.Fault{Status: http.StatusInternalServerError}
		}
		return nil
	})
	h.send(t, "not json at all")
	h.send(t, ebSuccessful("launch", plainASG, id))
	h.send(t, ebSuccessful("terminate", plainASG, failing))
	h.drain(t, h.consumer(t, 3))

	dead := h.sqs.Messages("lifecycle-dlq")
	if len(dead) != 2 {
		t.Fatalf("dead-letter queue holds %d messages, want 2: %+v", len(dead), dead)
	}
	reasons := map[string]string{}
	for _, m := range dead {
		reasons[m.Body] = m.Attributes[vmresource.AttrReason].StringValue
	}
	if r := reasons["not json at all"]; !strings.Contains(r, "not a JSON object") {
		t.Errorf("poison reason = %q, want it to say the body is not a JSON object", r)
	}
	if r := reasons[ebSuccessful("terminate", plainASG, failing)]; !strings.Contains(r, "failed 3 times") || !strings.Contains(r, "500") {
		t.Errorf("repeated-failure reason = %q, want \"failed 3 times\" and the last error", r)
	}
	if got := h.sqs.Calls("ChangeMessageVisibility"); got != 2 {
		t.Errorf("%d ChangeMessageVisibility calls (backoffs), want 2 before the third delivery", got)
	}
	if got := metricValue(t, h, "adofleet_vmresource_dead_lettered_total"); got != 2 {
		t.Errorf("dead_lettered_total = %v, want 2", got)
	}
	rec, err := h.store.GetVM(t.Context(), id)
	if err != nil || rec.ResourceID == 0 {
		t.Errorf("the good event was not handled: %+v, %v", rec, err)
	}
}

// TestHandleBatchForLambda: the Lambda path gets the same rules; only transient failures come
// back as failed ids (BatchItemFailures), poison is dead-lettered and counted as done.
func TestHandleBatchForLambda(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.launch(t, plainASG, true)
	failing := h.launch(t, plainASG, true)
	h.srvFaults(t, func(r *http.Request) *adosim.Fault {
		if r.URL.Query().Get("name") == failing {
			return &adosim.Fault{Status: http.StatusInternalServerError}
		}
		return nil
	})
	c := &vmresource.Consumer{SQS: h.sqs.Client(), DeadLetterURL: h.dlq, MaxReceives: 5, Manager: h.m, Logger: testLogger(t)}
	failed := c.HandleBatch(t.Context(), []vmresource.Message{
		{ID: "ok", Body: ebSuccessful("launch", plainASG, id), ReceiveCount: 1},
		{ID: "poison", Body: `{"detail-type":"EC2 Instance Launch Successful","source":"aws.autoscaling","detail":{}}`, ReceiveCount: 1},
		{ID: "transient", Body: ebSuccessful("terminate", plainASG, failing), ReceiveCount: 1},
		{ID: "exhausted", Body: ebSuccessful("terminate", plainASG, failing), ReceiveCount: 5},
	})
	if !cmp.Equal(failed, []string{"transient"}) {
		t.Errorf("failed ids = %v, want [transient]", failed)
	}
	dead := h.sqs.Messages("lifecycle-dlq")
	if len(dead) != 2 {
		t.Fatalf("dead-letter queue holds %d messages, want 2 (poison, exhausted)", len(dead))
	}
	for _, m := range dead {
		if m.Attributes[vmresource.AttrSourceMessageID].StringValue == "poison" &&
			!strings.Contains(m.Attributes[vmresource.AttrReason].StringValue, "detail.AutoScalingGroupName") {
			t.Errorf("poison reason = %q, want it to name detail.AutoScalingGroupName", m.Attributes[vmresource.AttrReason].StringValue)
		}
	}
}

// TestConsumerLeavesMessagesWhenTheDeadLetterQueueFails: a poison message that cannot be
// dead-lettered stays in the queue rather than being lost.
func TestConsumerLeavesMessagesWhenTheDeadLetterQueueFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.sqs.Fail("SendMessage", 1)
	c := h.consumer(t, 3)
	failed := c.HandleBatch(t.Context(), []vmresource.Message{{ID: "m1", Body: "garbage", ReceiveCount: 1}})
	if !cmp.Equal(failed, []string{"m1"}) {
		t.Errorf("failed = %v, want [m1] when the dead-letter send fails", failed)
	}
	if _, err := h.sqs.Client().SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(h.queue), MessageBody: aws.String("x")}); err != nil {
		t.Fatalf("the fault should have been used up: %v", err)
	}
}
