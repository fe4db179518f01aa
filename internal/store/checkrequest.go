package store

import (
	"context"
	"time"
)

// CheckRequest is one call of an Approvals-and-Checks "Invoke REST API" check, kept while the
// check waits for an agent: what the callback needs (the plan to post to and the job token that
// authorizes it) and the pool it waits on. It is keyed by Key, the callback's exactly-once key.
type CheckRequest struct {
	Key        CallbackKey
	Pool       string
	PlanURL    string // the organization (collection) URL the plan lives under
	ProjectID  string
	HubName    string
	TimelineID string // may be empty
	// AuthToken is the run's job access token: stored while the request is pending (a restarted
	// controller needs it to call back), blanked when it is done. Never log it.
	AuthToken  string
	ReceivedAt time.Time
}

// CheckOutcome is how a check request ended.
type CheckOutcome struct {
	Result string // "succeeded" or "failed": what was (or was meant to be) posted
	Reason string
	Agent  string // the agent that released the check, for a success
	Sent   bool   // whether this process posted the callback
	At     time.Time
}

// FinishedCheck is a check request that is done. Request.AuthToken is always empty.
type FinishedCheck struct {
	Request CheckRequest
	Outcome CheckOutcome
}

// CheckRequests is the durable record of check requests. Implementations are safe for
// concurrent use, by several processes sharing the store too.
type CheckRequests interface {
	// PutCheckRequest records r as pending and returns true. A request whose Key is already
	// recorded (pending or done) is left as it is and it returns false: ADO may invoke the check
	// again for the same task. Of concurrent puts of one key exactly one returns true. An error if
	// a part of the key is empty.
	PutCheckRequest(ctx context.Context, r CheckRequest) (created bool, err error)
	// PendingCheckRequests returns the pool's pending requests (all pools if pool is ""), oldest
	// ReceivedAt first.
	PendingCheckRequests(ctx context.Context, pool string) ([]CheckRequest, error)
	// DoneCheckRequest marks the request finished with o and forgets its AuthToken. An unknown
	// key is not an error; a request done again keeps the latest outcome.
	DoneCheckRequest(ctx context.Context, key CallbackKey, o CheckOutcome) error
	// FinishedCheckRequests returns the pool's finished requests (all pools if pool is ""),
	// oldest Outcome.At first. Backends may expire finished requests after a while.
	FinishedCheckRequests(ctx context.Context, pool string) ([]FinishedCheck, error)
}
