package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/vmresource"
)

// lambdaVM is the sqs handler's state: the consumer is built on the first invocation and kept for
// the life of the execution environment; a failed build is retried by the next invocation.
type lambdaVM struct {
	mu       sync.Mutex
	consumer *vmresource.Consumer
	manager  *vmresource.Manager
	interval time.Duration // vmResources.reconcileInterval
	last     time.Time     // the last reconcile run by this execution environment
	log      *slog.Logger
}

// reconcileVM runs the VM resource reconcile from the scheduled function, at most once per
// vmResources.reconcileInterval in this execution environment (Reconcile is idempotent, so two
// environments running it close together do no harm). It reports whether it ran.
func (h *lambdaHandler) reconcileVM(ctx context.Context, now time.Time) (vmresource.Report, bool, error) {
	if _, _, err := h.vmConsumer(ctx); err != nil {
		return vmresource.Report{}, false, err
	}
	h.vm.mu.Lock()
	if !h.vm.last.IsZero() && now.Sub(h.vm.last) < h.vm.interval {
		h.vm.mu.Unlock()
		return vmresource.Report{}, false, nil
	}
	h.vm.last = now
	m := h.vm.manager
	h.vm.mu.Unlock()
	rep, err := m.Reconcile(ctx)
	return rep, true, err
}

// SQS handles a batch of lifecycle events from the event source mapping. The ids of the messages
// to retry come back as BatchItemFailures (the mapping has ReportBatchItemFailures), so the others
// are deleted; a poison message is moved to the dead-letter queue and counted as handled, as in
// serve. An error fails the whole batch (nothing could be handled: the config or a client).
func (h *lambdaHandler) SQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	c, log, err := h.vmConsumer(ctx)
	if err != nil {
		return events.SQSEventResponse{}, err
	}
	msgs := make([]vmresource.Message, 0, len(ev.Records))
	for _, r := range ev.Records {
		n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		msgs = append(msgs, vmresource.Message{ID: r.MessageId, ReceiptHandle: r.ReceiptHandle, Body: r.Body, ReceiveCount: n})
	}
	failed := c.HandleBatch(ctx, msgs)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, id := range failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	log.Info("lifecycle batch", "messages", len(msgs), "retried", len(failed))
	return resp, nil
}

// vmConsumer builds the consumer once, from the config, as serve does minus the pools.
func (h *lambdaHandler) vmConsumer(ctx context.Context) (*vmresource.Consumer, *slog.Logger, error) {
	h.vm.mu.Lock()
	defer h.vm.mu.Unlock()
	if h.vm.consumer != nil {
		return h.vm.consumer, h.vm.log, nil
	}
	e, err := h.env(ctx, true, func(cfg *config.Config) error {
		if cfg.VMResources == nil {
			return errors.New("lambda sqs handler: the config has no vmResources section (the environments whose lifecycle events this queue carries)")
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	cfg, log := e.cfg, e.log
	parts, err := newVMResources(cfg, e.base.ac, e.base.client, e.base.store, e.events, false, e.reg, log)
	if err != nil {
		return nil, nil, fmt.Errorf("lambda: %w", err)
	}
	h.vm.consumer, h.vm.manager, h.vm.log = parts.consumer, parts.manager, log.With("component", "lambda")
	h.vm.interval = cfg.VMResources.ReconcileInterval.D()
	return h.vm.consumer, h.vm.log, nil
}
