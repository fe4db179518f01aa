package checks

import (
	"context"
	"fmt"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/store"
)

var _ Requests = (*StoreRequests)(nil)

// StoreRequests keeps check requests in the state store (store.CheckRequests: sqlite, dynamodb or
// postgres), so every process sharing the store (serve's replicas, the Lambda checks and
// reconcile functions) sees the same pending requests. The job token is stored while a request
// is pending (a restarted controller needs it to call back) and blanked when it is done; protect
// the store as you protect the token.
type StoreRequests struct {
	s store.CheckRequests
}

// NewStoreRequests returns the requests kept in s.
func NewStoreRequests(s store.CheckRequests) *StoreRequests { return &StoreRequests{s: s} }

// Put records r as pending; false if its key is recorded already.
func (r *StoreRequests) Put(ctx context.Context, req CheckRequest) (bool, error) {
	p := req.Plan
	created, err := r.s.PutCheckRequest(ctx, store.CheckRequest{
		Key: req.Key(), Pool: req.Pool, PlanURL: p.PlanURL, ProjectID: p.ProjectID, HubName: p.HubName,
		TimelineID: p.TimelineID, AuthToken: p.AuthToken, ReceivedAt: req.ReceivedAt,
	})
	if err != nil {
		return false, fmt.Errorf("checks: record request plan %q job %q: %w", p.PlanID, p.JobID, err)
	}
	return created, nil
}

// Pending returns the pool's pending requests (all pools if pool is ""), oldest first.
func (r *StoreRequests) Pending(ctx context.Context, pool string) ([]CheckRequest, error) {
	rs, err := r.s.PendingCheckRequests(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("checks: list pending requests of pool %q: %w", pool, err)
	}
	out := make([]CheckRequest, len(rs))
	for i, s := range rs {
		out[i] = CheckRequest{Pool: s.Pool, ReceivedAt: s.ReceivedAt, Plan: ado.PlanRef{
			PlanURL: s.PlanURL, ProjectID: s.ProjectID, HubName: s.HubName, PlanID: s.Key.PlanID,
			JobID: s.Key.JobID, TimelineID: s.TimelineID, TaskInstanceID: s.Key.TaskInstanceID, AuthToken: s.AuthToken,
		}}
	}
	return out, nil
}

// Done marks the request finished with o and forgets its token; unknown keys are not errors.
func (r *StoreRequests) Done(ctx context.Context, key store.CallbackKey, o Outcome) error {
	if o.Result != ResultSucceeded && o.Result != ResultFailed {
		return fmt.Errorf("checks: finish request plan %q job %q: result %q is not %s or %s", key.PlanID, key.JobID, o.Result, ResultSucceeded, ResultFailed)
	}
	if err := r.s.DoneCheckRequest(ctx, key, store.CheckOutcome(o)); err != nil {
		return fmt.Errorf("checks: finish request plan %q job %q: %w", key.PlanID, key.JobID, err)
	}
	return nil
}

// Finished is a request that is done, for the dashboard and tests.
type Finished struct {
	Key     store.CallbackKey
	Pool    string
	Outcome Outcome
}

// Finished returns the pool's finished requests (all pools if pool is ""), oldest first.
func (r *StoreRequests) Finished(ctx context.Context, pool string) ([]Finished, error) {
	fs, err := r.s.FinishedCheckRequests(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("checks: list finished requests of pool %q: %w", pool, err)
	}
	out := make([]Finished, len(fs))
	for i, f := range fs {
		out[i] = Finished{Key: f.Request.Key, Pool: f.Request.Pool, Outcome: Outcome(f.Outcome)}
	}
	return out, nil
}
