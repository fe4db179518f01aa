package sqsfake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/adofleet/adofleet/internal/vmresource/sqsfake"
)

func TestSDKRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := sqsfake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s := sqsfake.New(t, sqsfake.Options{Now: clk.Now})
	url := s.CreateQueue("events")
	c := s.Client()

	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"a":1}`),
		MessageAttributes: map[string]types.MessageAttributeValue{"why": {DataType: aws.String("String"), StringValue: aws.String("test")}}})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	receive := func() []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 60,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
			MessageAttributeNames:       []string{"All"}})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		return out.Messages
	}
	got := receive()
	if len(got) != 1 || aws.ToString(got[0].MessageId) != aws.ToString(sent.MessageId) || aws.ToString(got[0].Body) != `{"a":1}` {
		t.Fatalf("first receive = %+v, want the message sent", got)
	}
	if n := got[0].Attributes["ApproximateReceiveCount"]; n != "1" {
		t.Errorf("ApproximateReceiveCount = %q, want 1", n)
	}
	if v := aws.ToString(got[0].MessageAttributes["why"].StringValue); v != "test" {
		t.Errorf("message attribute why = %q, want test", v)
	}
	if again := receive(); len(again) != 0 {
		t.Errorf("receive while invisible = %d messages, want 0", len(again))
	}
	clk.Advance(61 * time.Second)
	got = receive()
	if len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the visibility timeout = %+v, want the message with receive count 2", got)
	}
	first := got[0]
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url),
		ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	got = receive()
	if len(got) != 1 {
		t.Fatalf("after visibility 0: %d messages, want 1", len(got))
	}
	// The earlier handle is stale: deleting with it succeeds but leaves the message.
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("old"), ReceiptHandle: first.ReceiptHandle}}})
	if err != nil || len(del.Successful) != 1 {
		t.Fatalf("DeleteMessageBatch(stale) = %+v, %v", del, err)
	}
	if n := len(s.Messages("events")); n != 1 {
		t.Fatalf("after a stale delete: %d messages, want 1", n)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: got[0].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if n := len(s.Messages("events")); n != 0 {
		t.Errorf("after delete: %d messages, want 0", n)
	}

	u, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("events")})
	if err != nil || aws.ToString(u.QueueUrl) != url {
		t.Errorf("GetQueueUrl = %v, %v; want %s", u, err, url)
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var nq *types.QueueDoesNotExist
	if !errors.As(err, &nq) {
		t.Errorf("GetQueueUrl(unknown) = %v, want QueueDoesNotExist", err)
	}
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("garbage"), VisibilityTimeout: 5})
	var bad *types.ReceiptHandleIsInvalid
	if !errors.As(err, &bad) {
		t.Errorf("ChangeMessageVisibility(garbage) = %v, want ReceiptHandleIsInvalid", err)
	}
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.DeleteMessageBatchRequestEntry{}})
	var emptyBatch *types.EmptyBatchRequest
	if !errors.As(err, &emptyBatch) {
		t.Errorf("DeleteMessageBatch(no entries) = %v, want EmptyBatchRequest", err)
	}
}

func TestLongPollReturnsWhenAMessageArrives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := sqsfake.New(t, sqsfake.Options{LongPollLimit: time.Minute})
	url := s.CreateQueue("events")
	c := s.Client()
	done := make(chan []types.Message)
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		if err != nil {
			t.Errorf("ReceiveMessage: %v", err)
		}
		done <- out.Messages
	}()
	// Whether the send lands before or during the poll, the poll returns it.
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("hello")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if got := <-done; len(got) != 1 || aws.ToString(got[0].Body) != "hello" {
		t.Errorf("long poll = %+v, want the message", got)
	}
}
