package vmresource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Consumer defaults.
const (
	DefaultMaxReceives       = 5
	DefaultWaitTime          = 20 * time.Second // the SQS maximum long poll
	DefaultVisibilityTimeout = 2 * time.Minute
	// maxBackoff bounds the visibility a failed message is given before its next try.
	maxBackoff = 15 * time.Minute
	// callTimeout bounds one SQS call other than the long poll.
	callTimeout = 30 * time.Second
)

// Message attributes set on a message sent to the dead-letter queue.
const (
	AttrReason            = "adofleet-reason"
	AttrSourceMessageID   = "adofleet-source-message-id"
	AttrReceiveCount      = "adofleet-receive-count"
	attrDataTypeString    = "String"
	receiveCountAttribute = "ApproximateReceiveCount"
)

// SQS is the part of the SQS client the consumer uses; *sqs.Client implements it.
type SQS interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Message is one queue message, from ReceiveMessage or from a Lambda SQS event.
type Message struct {
	ID            string
	ReceiptHandle string
	Body          string
	// ReceiveCount is the message's ApproximateReceiveCount (this delivery included).
	ReceiveCount int
}

// Consumer feeds queue messages to a Manager. A message is deleted only after HandleMessage
// returned nil. A poison message, or one received MaxReceives times, is sent to DeadLetterURL with
// the reason as a message attribute, logged, and then counted as handled (so it is deleted). A
// transient failure is left in the queue and made invisible for a backoff that grows with its
// receive count.
//
// The Lambda SQS handler uses HandleBatch with the same rules: its failed ids become
// BatchItemFailures, everything else is deleted by the event source mapping. Set QueueURL there
// too (the event carries only the queue's ARN) for the backoff; without it a failed message comes
// back after the queue's visibility timeout.
type Consumer struct {
	SQS      SQS
	QueueURL string
	// DeadLetterURL receives poison messages. Empty: they are logged and left in the queue, for
	// the queue's own redrive policy to move.
	DeadLetterURL     string
	MaxReceives       int           // default DefaultMaxReceives
	WaitTime          time.Duration // long poll; default DefaultWaitTime, at most 20s
	VisibilityTimeout time.Duration // default DefaultVisibilityTimeout
	Manager           *Manager
	Logger            *slog.Logger
}

func (c *Consumer) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger.With("component", "vmresource-consumer")
}

func (c *Consumer) maxReceives() int {
	if c.MaxReceives <= 0 {
		return DefaultMaxReceives
	}
	return c.MaxReceives
}

// Run long-polls the queue until ctx ends; it returns nil then. Receive errors are logged and
// retried with backoff.
func (c *Consumer) Run(ctx context.Context) error {
	if c.SQS == nil || c.QueueURL == "" || c.Manager == nil {
		return errors.New("vmresource: consumer needs SQS, QueueURL and Manager")
	}
	log := c.logger()
	wait := c.WaitTime
	if wait <= 0 {
		wait = DefaultWaitTime
	}
	wait = min(wait, 20*time.Second)
	vis := c.VisibilityTimeout
	if vis <= 0 {
		vis = DefaultVisibilityTimeout
	}
	failures := 0
	for ctx.Err() == nil {
		out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(c.QueueURL),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             int32(wait / time.Second),
			VisibilityTimeout:           int32(vis / time.Second),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			d := backoff(failures, time.Second, time.Minute)
			log.Warn("receive from the lifecycle queue failed", "error", err, "retry_in", d)
			if sleepCtx(ctx, d) != nil {
				break
			}
			continue
		}
		failures = 0
		msgs := make([]Message, 0, len(out.Messages))
		for _, m := range out.Messages {
			n, _ := strconv.Atoi(m.Attributes[receiveCountAttribute])
			msgs = append(msgs, Message{ID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), ReceiveCount: n})
		}
		if len(msgs) == 0 {
			continue
		}
		// Finish the batch even when ctx ends meanwhile: a handled message should be deleted.
		bctx := context.WithoutCancel(ctx)
		failed := c.HandleBatch(bctx, msgs)
		c.deleteHandled(bctx, msgs, failed)
	}
	return nil
}

// HandleBatch handles msgs concurrently and returns the ids of those to leave in the queue for
// redelivery (transient failures, and poison that could not be dead-lettered).
func (c *Consumer) HandleBatch(ctx context.Context, msgs []Message) (failedIDs []string) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, m := range msgs {
		wg.Go(func() {
			if !c.handleOne(ctx, m) {
				mu.Lock()
				failedIDs = append(failedIDs, m.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failedIDs
}

// handleOne reports whether the message is done with (handled, ignored or dead-lettered).
func (c *Consumer) handleOne(ctx context.Context, m Message) bool {
	log := c.logger().With("message_id", m.ID, "receive_count", m.ReceiveCount)
	err := c.Manager.HandleMessage(ctx, m.Body)
	if err == nil {
		return true
	}
	reason, kind := "", ""
	switch {
	case errors.Is(err, ErrPoison):
		reason, kind = err.Error(), "poison"
	case m.ReceiveCount >= c.maxReceives():
		reason, kind = fmt.Sprintf("failed %d times, last: %v", m.ReceiveCount, err), "max_receives"
	default:
		d := backoff(m.ReceiveCount, 10*time.Second, maxBackoff)
		log.Warn("lifecycle event failed; left for redelivery", "error", err, "retry_in", d)
		c.delay(ctx, m, d, log)
		return false
	}
	if c.DeadLetterURL == "" {
		log.Error("lifecycle message can never be handled; no dead-letter queue configured, left in the queue", "reason", reason)
		return false
	}
	if err := c.deadLetter(ctx, m, reason); err != nil {
		log.Error("sending a message to the dead-letter queue failed; left for redelivery", "reason", reason, "error", err)
		return false
	}
	c.Manager.m.deadLettered.WithLabelValues(kind).Inc()
	log.Error("lifecycle message sent to the dead-letter queue", "reason", reason, "kind", kind)
	return true
}

func (c *Consumer) deadLetter(ctx context.Context, m Message, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	const maxAttr = 1024 // keep the attribute small; the body carries the message itself
	if len(reason) > maxAttr {
		reason = reason[:maxAttr]
	}
	str := func(v string) sqstypes.MessageAttributeValue {
		return sqstypes.MessageAttributeValue{DataType: aws.String(attrDataTypeString), StringValue: aws.String(v)}
	}
	_, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(c.DeadLetterURL),
		MessageBody: aws.String(m.Body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			AttrReason:          str(reason),
			AttrSourceMessageID: str(m.ID),
			AttrReceiveCount:    {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(m.ReceiveCount))},
		},
	})
	if err != nil {
		return fmt.Errorf("send message %s to the dead-letter queue: %w", m.ID, err)
	}
	return nil
}

// delay makes a failed message invisible for d, so its next try is backed off.
func (c *Consumer) delay(ctx context.Context, m Message, d time.Duration, log *slog.Logger) {
	if c.QueueURL == "" || m.ReceiptHandle == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := c.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(c.QueueURL), ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: int32(d / time.Second),
	}); err != nil {
		log.Warn("backing off a failed message failed; it returns after its visibility timeout", "error", err)
	}
}

// deleteHandled deletes the messages not in failed, ten per call.
func (c *Consumer) deleteHandled(ctx context.Context, msgs []Message, failed []string) {
	skip := make(map[string]bool, len(failed))
	for _, id := range failed {
		skip[id] = true
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if !skip[m.ID] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.ReceiptHandle)})
		}
	}
	log := c.logger()
	for len(entries) > 0 {
		n := min(len(entries), 10)
		batch := entries[:n]
		entries = entries[n:]
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		out, err := c.SQS.DeleteMessageBatch(cctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(c.QueueURL), Entries: batch})
		cancel()
		// A message not deleted comes back and is handled again: harmless, every step is idempotent.
		if err != nil {
			log.Warn("deleting handled messages failed; they will be handled again", "error", err, "count", len(batch))
			continue
		}
		for _, f := range out.Failed {
			log.Warn("deleting a handled message failed; it will be handled again", "entry", aws.ToString(f.Id),
				"code", aws.ToString(f.Code), "error", aws.ToString(f.Message))
		}
	}
}

// backoff is base * 2^(n-1), capped.
func backoff(n int, base, limit time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
