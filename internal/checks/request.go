package checks

import (
	"context"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/store"
)

// CheckRequest is one invocation of the check: the plan to call back and the pool it waits on.
type CheckRequest struct {
	Pool       string
	Plan       ado.PlanRef // carries the job access token; never log it
	ReceivedAt time.Time
}

// Key is the exactly-once key of the request's callback.
func (r CheckRequest) Key() store.CallbackKey { return keyOf(r.Plan) }

func keyOf(p ado.PlanRef) store.CallbackKey {
	return store.CallbackKey{PlanID: p.PlanID, JobID: p.JobID, TaskInstanceID: p.TaskInstanceID}
}

// Check results posted to ADO.
const (
	ResultSucceeded = "succeeded"
	ResultFailed    = "failed"
)

// Outcome is how a request ended.
type Outcome struct {
	Result string // ResultSucceeded or ResultFailed: what was (or was meant to be) posted
	Reason string // why, in words for the dashboard
	Agent  string // the agent that released the check, for a success
	// Sent is false when the callback was not posted by this call: the post failed, or the
	// callback had been claimed before (a restart between claim and post).
	Sent bool
	At   time.Time
}

// Requests is the durable record of check requests. Implementations must be safe for concurrent
// use; StoreRequests keeps them in the state store.
type Requests interface {
	// Put records r as pending. A request whose key is already recorded is left as it is and
	// Put returns false (ADO may invoke the check again for the same task).
	Put(ctx context.Context, r CheckRequest) (created bool, err error)
	// Pending returns the pool's pending requests (all pools if pool is ""), oldest first.
	Pending(ctx context.Context, pool string) ([]CheckRequest, error)
	// Done marks the request finished with o and forgets its token. Unknown keys are not errors.
	Done(ctx context.Context, key store.CallbackKey, o Outcome) error
}

// Claimer is the exactly-once mark; store.Store implements it.
type Claimer interface {
	ClaimCallback(ctx context.Context, key store.CallbackKey, result string, at time.Time) (bool, error)
}

// ADO is the part of the ADO client the callbacker uses; *ado.Client implements it.
type ADO interface {
	FindPool(ctx context.Context, name string) (ado.Pool, error)
	ListAgents(ctx context.Context, poolID int) ([]ado.Agent, error)
	PostJobEvent(ctx context.Context, plan ado.PlanRef, ev ado.JobEvent) error
	AppendLog(ctx context.Context, plan ado.PlanRef, lines []string) error
}

// Waker asks the pool's controller to reconcile now; it must not block (controller.Wake).
type Waker func(pool string)

// PendingByPool counts the pending requests per pool: the controller adds them to the pool's
// demand, as jobs that will be queued once an agent is there.
func PendingByPool(ctx context.Context, reqs Requests) (map[string]int, error) {
	all, err := reqs.Pending(ctx, "")
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, r := range all {
		out[r.Pool]++
	}
	return out, nil
}
