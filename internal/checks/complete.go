package checks

import (
	"context"
	"fmt"

	"github.com/adofleet/adofleet/internal/ado"
)

// complete logs the outcome to the check, claims the callback, posts it and records the request
// as done. The claim comes before the post: a crash between them loses the callback (the check
// times out in ADO) rather than sending it twice.
func (c *Callbacker) complete(ctx context.Context, r CheckRequest, o Outcome) error {
	key := r.Key()
	c.markCompleting(key)
	log := c.log.With("pool", r.Pool, "plan", key.PlanID, "job", key.JobID, "task", key.TaskInstanceID, "result", o.Result)
	line := "adofleet: " + o.Reason
	if o.Result == ResultFailed {
		line = "adofleet: failing the check: " + o.Reason
	} else {
		line += "; releasing the job"
	}
	if err := c.opts.ADO.AppendLog(ctx, r.Plan, []string{line}); err != nil {
		// The log is a courtesy; the callback is what matters.
		log.Warn("appending to the check's log failed", "err", err)
	}
	claimed, err := c.opts.Claims.ClaimCallback(ctx, key, o.Result, o.At)
	if err != nil {
		return fmt.Errorf("checks: claim callback of plan %s job %s: %w", key.PlanID, key.JobID, err)
	}
	outcome := "sent"
	switch {
	case !claimed:
		outcome = "claimed_before"
		o.Reason = "callback was claimed before (adofleet restarted between claiming and posting it); not sent again: " + o.Reason
		log.Warn("check callback already claimed; not sending it again")
	default:
		err := c.opts.ADO.PostJobEvent(ctx, r.Plan, ado.JobEvent{Name: "TaskCompleted", TaskID: key.TaskInstanceID, JobID: key.JobID, Result: o.Result})
		if err != nil {
			outcome = "send_error"
			o.Reason += "; posting the callback failed: " + err.Error()
			log.Error("posting the check callback failed; the check will time out in ADO", "err", err)
		} else {
			o.Sent = true
			c.metrics.wait.WithLabelValues(r.Pool, o.Result).Observe(o.At.Sub(r.ReceivedAt).Seconds())
			log.Info("check callback sent", "agent", o.Agent, "reason", o.Reason)
		}
	}
	c.metrics.callbacks.WithLabelValues(r.Pool, o.Result, outcome).Inc()
	if claimed && (o.Result == ResultFailed || !o.Sent) {
		c.publishFailed(ctx, r, o)
	}
	if err := c.opts.Requests.Done(ctx, key, o); err != nil {
		// Still pending: the next round finds the claim taken and records it as done then.
		return err
	}
	return nil
}
