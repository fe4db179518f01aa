package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/notify"
)

// publishTimeout bounds one Publish (an outbox write), so a slow outbox does not hold the round.
const publishTimeout = 2 * time.Second

// publishFailed reports a check that failed or whose callback could not be posted. The reason
// names the pool and the cause, never the plan's token.
func (c *Callbacker) publishFailed(ctx context.Context, r CheckRequest, o Outcome) {
	if c.opts.Events == nil {
		return
	}
	key := r.Key()
	summary := fmt.Sprintf("check of plan %s in pool %s failed: %s", key.PlanID, r.Pool, o.Reason)
	if !o.Sent && o.Result != ResultFailed {
		summary = fmt.Sprintf("check callback of plan %s in pool %s could not be sent: %s", key.PlanID, r.Pool, o.Reason)
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	err := c.opts.Events.Publish(pctx, notify.Event{
		Type:     notify.CheckCallbackFailed,
		Severity: notify.SeverityError,
		Time:     o.At,
		Pool:     r.Pool,
		Summary:  summary,
		Fields:   map[string]string{"planId": key.PlanID, "jobId": key.JobID, "reason": o.Reason},
		DedupKey: string(notify.CheckCallbackFailed) + "/" + key.PlanID + "/" + key.JobID + "/" + key.TaskInstanceID,
	})
	if err != nil {
		c.log.Warn("publishing a failed check failed", "pool", r.Pool, "plan", key.PlanID, "err", err)
	}
}
