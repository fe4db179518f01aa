package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/adofleet/adofleet/internal/store"
)

// AppendDecision records d. It expires DecisionRetention after it was appended.
func (s *Store) AppendDecision(ctx context.Context, d store.Decision) (err error) {
	defer s.m.observe("append_decision", time.Now(), &err)
	sk := timeKey(d.Time) + "#" + s.seq.next()
	it := newItem(pkDecision, sk)
	it.s("lsk", group(d.Pool)+sk)
	it.t("time", d.Time)
	it.s("pool", d.Pool)
	it.s("action", d.Action)
	it.s("target", d.Target)
	it.s("reason", d.Reason)
	it.n(attrTTL, expiry(s.opts.Now().Add(s.opts.DecisionRetention)))
	// The sort key is unique (random bits), so the condition only guards against the impossible.
	if err := s.create(ctx, it); err != nil {
		return fmt.Errorf("dynamodb: append decision %s %q for pool %q: %w", d.Action, d.Target, d.Pool, err)
	}
	return nil
}

// ListDecisions returns the newest decisions first (ties: the later appended first), at most
// limit (no limit if limit <= 0), of pool ("" = every pool). Both read backwards along a sort
// key, so a limit reads only what it returns.
func (s *Store) ListDecisions(ctx context.Context, pool string, limit int) (out []store.Decision, err error) {
	defer s.m.observe("list_decisions", time.Now(), &err)
	q := partition(pkDecision)
	q.ScanIndexForward = aws.Bool(false)
	if pool != "" {
		inGroup(q, group(pool))
	}
	out, err = queryRecords(ctx, s, q, max(limit, 0), decisionFrom)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: list decisions of pool %q: %w", pool, err)
	}
	return out, nil
}

func decisionFrom(it map[string]types.AttributeValue) (store.Decision, error) {
	r := reader{it: it}
	d := store.Decision{Time: r.t("time"), Pool: r.s("pool"), Action: r.s("action"), Target: r.s("target"), Reason: r.s("reason")}
	return d, r.err
}

// ClaimCallback records key as sent with result; true only for the first claim of key. The
// conditional put of the key's marker is the claim, so racing claimers cannot both win. Marks
// never expire.
func (s *Store) ClaimCallback(ctx context.Context, key store.CallbackKey, result string, at time.Time) (claimed bool, err error) {
	defer s.m.observe("claim_callback", time.Now(), &err)
	it := newItem(hashKey("callback#", key.PlanID, key.JobID, key.TaskInstanceID), skSingle)
	it.s("planId", key.PlanID)
	it.s("jobId", key.JobID)
	it.s("taskInstanceId", key.TaskInstanceID)
	it.s("result", result)
	it.t("claimedAt", at)
	switch err := s.create(ctx, it); {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrConflict):
		return false, nil
	default:
		return false, fmt.Errorf("dynamodb: claim callback plan %q job %q task %q: %w", key.PlanID, key.JobID, key.TaskInstanceID, err)
	}
}
