package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/adofleet/adofleet/internal/store"
)

// Index key prefixes of check requests: a request moves from the pending range to the done range.
const (
	checkPending = "pending:"
	checkDone    = "done:"
)

// PutCheckRequest records r as pending; false if its key is recorded already. The conditional
// put is the test, so racing puts (in any process) create it once.
func (s *Store) PutCheckRequest(ctx context.Context, r store.CheckRequest) (created bool, err error) {
	defer s.m.observe("put_check_request", time.Now(), &err)
	k := r.Key
	if k.PlanID == "" || k.JobID == "" || k.TaskInstanceID == "" {
		return false, fmt.Errorf("dynamodb: put check request %+v: plan, job and task instance ids are all required", k)
	}
	switch err := s.create(ctx, checkItem(r, nil, 0)); {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrConflict):
		return false, nil
	default:
		return false, fmt.Errorf("dynamodb: put check request plan %q job %q task %q: %w", k.PlanID, k.JobID, k.TaskInstanceID, err)
	}
}

// PendingCheckRequests returns the pool's pending requests ("" = every pool), oldest first. It
// reads the index range of pending requests (of the pool), never a done one.
func (s *Store) PendingCheckRequests(ctx context.Context, pool string) (out []store.CheckRequest, err error) {
	defer s.m.observe("pending_check_requests", time.Now(), &err)
	out, err = queryRecords(ctx, s, checkRange(checkPending, pool), 0, checkFrom)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: pending check requests of pool %q: %w", pool, err)
	}
	// One pool's range is in time order already; all pools' ranges follow each other.
	slices.SortStableFunc(out, func(a, b store.CheckRequest) int {
		if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
			return c
		}
		return compareKeys(a.Key, b.Key)
	})
	return out, nil
}

// DoneCheckRequest marks the request done with o, blanks its token and dates its expiry; an
// unknown key is not an error.
func (s *Store) DoneCheckRequest(ctx context.Context, key store.CallbackKey, o store.CheckOutcome) (err error) {
	defer s.m.observe("done_check_request", time.Now(), &err)
	wrap := func(err error) error {
		return fmt.Errorf("dynamodb: finish check request plan %q job %q task %q: %w", key.PlanID, key.JobID, key.TaskInstanceID, err)
	}
	g, err := s.guard(ctx)
	if err != nil {
		return wrap(err)
	}
	it, err := s.get(ctx, pkCheck, checkSK(key))
	if err != nil {
		return wrap(err)
	}
	if it == nil {
		return nil
	}
	req, err := checkFrom(it)
	if err != nil {
		return wrap(err)
	}
	req.AuthToken = ""
	done := checkItem(req, &o, expiry(s.opts.Now().Add(s.opts.CheckRetention)))
	in := &ddb.PutItemInput{
		TableName: s.table, Item: done,
		// Only over the request read: never recreate one that expired meanwhile.
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}
	g.put(in)
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.opts.Client.PutItem(ctx, in)
		return err
	})
	if conditionFailed(err) {
		err = g.failed(ctx)
	}
	if err != nil {
		return wrap(err)
	}
	return nil
}

// FinishedCheckRequests returns the pool's done requests ("" = every pool), by outcome time.
// Done requests expire CheckRetention after they were finished.
func (s *Store) FinishedCheckRequests(ctx context.Context, pool string) (out []store.FinishedCheck, err error) {
	defer s.m.observe("finished_check_requests", time.Now(), &err)
	out, err = queryRecords(ctx, s, checkRange(checkDone, pool), 0, finishedFrom)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: finished check requests of pool %q: %w", pool, err)
	}
	slices.SortStableFunc(out, func(a, b store.FinishedCheck) int {
		if c := a.Outcome.At.Compare(b.Outcome.At); c != 0 {
			return c
		}
		return compareKeys(a.Request.Key, b.Request.Key)
	})
	return out, nil
}

// checkRange is the query of the requests whose index key starts with prefix (then the pool's
// group, if pool is set), read through the by-group index.
func checkRange(prefix, pool string) *ddb.QueryInput {
	if pool != "" {
		prefix += group(pool)
	}
	q := partition(pkCheck)
	inGroup(q, prefix)
	return q
}

// checkSK is the sort key of a request: its callback key, hashed (no separator ambiguity).
func checkSK(k store.CallbackKey) string { return hashKey("", k.PlanID, k.JobID, k.TaskInstanceID) }

// checkItem is r's item: pending if o is nil, else done with o and expiring at ttl.
func checkItem(r store.CheckRequest, o *store.CheckOutcome, ttl int64) item {
	sk := checkSK(r.Key)
	it := newItem(pkCheck, sk)
	it.s("planId", r.Key.PlanID)
	it.s("jobId", r.Key.JobID)
	it.s("taskInstanceId", r.Key.TaskInstanceID)
	it.s("pool", r.Pool)
	it.s("planUrl", r.PlanURL)
	it.s("projectId", r.ProjectID)
	it.s("hubName", r.HubName)
	it.s("timelineId", r.TimelineID)
	it.s("authToken", r.AuthToken)
	it.t("receivedAt", r.ReceivedAt)
	if o == nil {
		it.s("state", "pending")
		it.s("lsk", checkPending+group(r.Pool)+timeKey(r.ReceivedAt)+"#"+sk)
		return it
	}
	it.s("state", "done")
	it.s("lsk", checkDone+group(r.Pool)+timeKey(o.At)+"#"+sk)
	it.s("result", o.Result)
	it.s("reason", o.Reason)
	it.s("agent", o.Agent)
	if o.Sent {
		it.n("sent", 1)
	}
	it.t("doneAt", o.At)
	it.n(attrTTL, ttl)
	return it
}

// checkFrom maps a request's item, pending or done.
func checkFrom(it map[string]types.AttributeValue) (store.CheckRequest, error) {
	r := reader{it: it}
	req := readCheck(&r)
	return req, r.err
}

// finishedFrom maps a done request's item, its outcome included.
func finishedFrom(it map[string]types.AttributeValue) (store.FinishedCheck, error) {
	r := reader{it: it}
	f := store.FinishedCheck{Request: readCheck(&r), Outcome: store.CheckOutcome{
		Result: r.s("result"), Reason: r.s("reason"), Agent: r.s("agent"), Sent: r.n("sent") == 1, At: r.t("doneAt"),
	}}
	return f, r.err
}

// readCheck reads the request's own attributes, common to pending and done ones.
func readCheck(r *reader) store.CheckRequest {
	return store.CheckRequest{
		Key:        store.CallbackKey{PlanID: r.s("planId"), JobID: r.s("jobId"), TaskInstanceID: r.s("taskInstanceId")},
		Pool:       r.s("pool"),
		PlanURL:    r.s("planUrl"),
		ProjectID:  r.s("projectId"),
		HubName:    r.s("hubName"),
		TimelineID: r.s("timelineId"),
		AuthToken:  r.s("authToken"),
		ReceivedAt: r.t("receivedAt"),
	}
}

func compareKeys(a, b store.CallbackKey) int {
	if c := strings.Compare(a.PlanID, b.PlanID); c != 0 {
		return c
	}
	if c := strings.Compare(a.JobID, b.JobID); c != 0 {
		return c
	}
	return strings.Compare(a.TaskInstanceID, b.TaskInstanceID)
}
