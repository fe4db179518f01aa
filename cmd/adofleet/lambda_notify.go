package main

import (
	"context"
	"time"
)

// Lambda runs no delivery loop: the execution environment is frozen as soon as an invocation
// returns, so each invocation delivers before it returns. Messages it cannot send in time, or
// that fail, stay in the outbox (the shared store) and go out on a later invocation; the
// scheduled reconcile runs every minute or so.
const (
	// lambdaReturnReserve is the part of the invocation's time kept for returning once delivery
	// stops: no send starts after that, and one still running is cut and retried later.
	lambdaReturnReserve = 3 * time.Second
	// lambdaMinDelivery: with less time than this left before the reserve, no round starts.
	lambdaMinDelivery = time.Second
	// lambdaMaxDelivery bounds a round on its own (and when the context has no deadline, as
	// outside the Lambda runtime): a round is one batch of due messages.
	lambdaMaxDelivery = 30 * time.Second
)

// deliverNotifications ends every invocation: it waits for the events being published (the
// throttle hooks publish on their own goroutines), then runs one delivery round within the
// invocation's time. A failed delivery never fails the invocation: it is logged and counted by
// the notify metrics, and the message is retried by a later invocation.
//
// The checks function publishes but does not deliver: API Gateway passes its answer to Azure
// DevOps only once the handler returns, and a slow receiver must not hold the check's call. Its
// messages go out with the next scheduled reconcile.
func (h *lambdaHandler) deliverNotifications(ctx context.Context, kind string) {
	h.envs.mu.Lock()
	e := h.envs.env
	h.envs.mu.Unlock()
	if e == nil || e.notifier == nil { // not built (a config error) or no notify route
		return
	}
	e.events.wait()
	if kind == handlerChecks {
		return
	}
	log := e.log.With("component", "lambda")
	dctx, cancel, ok := deliveryContext(ctx, time.Now())
	if !ok {
		log.Warn("too little time left to deliver notifications; they wait in the outbox for the next invocation")
		return
	}
	defer cancel()
	n, err := e.notifier.DeliverDue(dctx)
	if err != nil {
		log.Warn("delivering notifications failed; they wait in the outbox for the next invocation", "err", err)
		return
	}
	log.Debug("notification round", "messages", n)
}

// deliveryContext is the context of one delivery round started at now: ctx's values without its
// cancellation (the round records its outcomes), ending lambdaReturnReserve before ctx's deadline
// and at most lambdaMaxDelivery from now. ok is false when the round would be shorter than
// lambdaMinDelivery.
func deliveryContext(ctx context.Context, now time.Time) (_ context.Context, _ context.CancelFunc, ok bool) {
	stop := now.Add(lambdaMaxDelivery)
	if d, has := ctx.Deadline(); has && d.Add(-lambdaReturnReserve).Before(stop) {
		stop = d.Add(-lambdaReturnReserve)
	}
	if stop.Sub(now) < lambdaMinDelivery {
		return nil, nil, false
	}
	dctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), stop)
	return dctx, cancel, true
}
