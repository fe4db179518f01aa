package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// PutCheckRequest records r as pending; false if its key is recorded already. The primary key
// makes the insert the test, so racing puts of one key create it once.
func (s *Store) PutCheckRequest(ctx context.Context, r store.CheckRequest) (created bool, err error) {
	defer s.m.observe("put_check_request", time.Now(), &err)
	k := r.Key
	if err := checkKey(k); err != nil {
		return false, fmt.Errorf("sqlite: put check request: %w", err)
	}
	res, err := s.exec(ctx, `INSERT INTO check_requests (plan_id, job_id, task_instance_id, pool,
		plan_url, project_id, hub_name, timeline_id, auth_token, received_at, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT DO NOTHING`,
		k.PlanID, k.JobID, k.TaskInstanceID, r.Pool, r.PlanURL, r.ProjectID, r.HubName, r.TimelineID,
		r.AuthToken, r.ReceivedAt.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("sqlite: put check request plan %q job %q task %q: %w", k.PlanID, k.JobID, k.TaskInstanceID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: put check request plan %q job %q task %q: %w", k.PlanID, k.JobID, k.TaskInstanceID, err)
	}
	return n == 1, nil
}

// checkKey rejects a callback key with an empty part.
func checkKey(k store.CallbackKey) error {
	if k.PlanID == "" || k.JobID == "" || k.TaskInstanceID == "" {
		return fmt.Errorf("key %+v: plan, job and task instance ids are all required", k)
	}
	return nil
}

const checkColumns = `plan_id, job_id, task_instance_id, pool, plan_url, project_id, hub_name, timeline_id,
	auth_token, received_at`

// PendingCheckRequests returns the pool's pending requests ("" = every pool), oldest first.
func (s *Store) PendingCheckRequests(ctx context.Context, pool string) (out []store.CheckRequest, err error) {
	defer s.m.observe("pending_check_requests", time.Now(), &err)
	rows, err := s.r.QueryContext(ctx, `SELECT `+checkColumns+` FROM check_requests
		WHERE state = 'pending' AND (? = '' OR pool = ?)
		ORDER BY received_at, plan_id, job_id, task_instance_id`, pool, pool)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending check requests of pool %q: %w", pool, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanCheck(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: pending check requests of pool %q: %w", pool, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: pending check requests of pool %q: %w", pool, err)
	}
	return out, nil
}

// DoneCheckRequest marks the request done with o and blanks its token; an unknown key is no error.
func (s *Store) DoneCheckRequest(ctx context.Context, key store.CallbackKey, o store.CheckOutcome) (err error) {
	defer s.m.observe("done_check_request", time.Now(), &err)
	if _, err := s.exec(ctx, `UPDATE check_requests SET state = 'done', auth_token = '', result = ?,
		reason = ?, agent = ?, sent = ?, done_at = ? WHERE plan_id = ? AND job_id = ? AND task_instance_id = ?`,
		o.Result, o.Reason, o.Agent, o.Sent, toDB(o.At), key.PlanID, key.JobID, key.TaskInstanceID); err != nil {
		return fmt.Errorf("sqlite: finish check request plan %q job %q task %q: %w", key.PlanID, key.JobID, key.TaskInstanceID, err)
	}
	return nil
}

// FinishedCheckRequests returns the pool's done requests ("" = every pool), by outcome time.
func (s *Store) FinishedCheckRequests(ctx context.Context, pool string) (out []store.FinishedCheck, err error) {
	defer s.m.observe("finished_check_requests", time.Now(), &err)
	rows, err := s.r.QueryContext(ctx, `SELECT `+checkColumns+`, result, reason, agent, sent, done_at
		FROM check_requests WHERE state = 'done' AND (? = '' OR pool = ?)
		ORDER BY done_at, plan_id, job_id, task_instance_id`, pool, pool)
	if err != nil {
		return nil, fmt.Errorf("sqlite: finished check requests of pool %q: %w", pool, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			f  store.FinishedCheck
			at sql.NullInt64
		)
		f.Request, err = scanCheck(rows, &f.Outcome.Result, &f.Outcome.Reason, &f.Outcome.Agent, &f.Outcome.Sent, &at)
		if err != nil {
			return nil, fmt.Errorf("sqlite: finished check requests of pool %q: %w", pool, err)
		}
		f.Outcome.At = fromDB(at)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: finished check requests of pool %q: %w", pool, err)
	}
	return out, nil
}

// scanCheck reads checkColumns, then extra.
func scanCheck(rows *sql.Rows, extra ...any) (store.CheckRequest, error) {
	var (
		r  store.CheckRequest
		at int64
	)
	dest := append([]any{&r.Key.PlanID, &r.Key.JobID, &r.Key.TaskInstanceID, &r.Pool, &r.PlanURL, &r.ProjectID,
		&r.HubName, &r.TimelineID, &r.AuthToken, &at}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return store.CheckRequest{}, err
	}
	r.ReceivedAt = time.UnixMicro(at).UTC()
	return r, nil
}

// PruneChecks deletes the done check requests and the callback claims older than before, and
// returns how many rows went. Pending requests stay whatever their age. A claim pruned is a key
// that could be claimed again, so before must lie beyond the longest a check can wait in ADO.
func (s *Store) PruneChecks(ctx context.Context, before time.Time) (n int, err error) {
	defer s.m.observe("prune_checks", time.Now(), &err)
	for _, q := range []string{
		`DELETE FROM check_requests WHERE state = 'done' AND (done_at IS NULL OR done_at < ?)`,
		`DELETE FROM callbacks WHERE claimed_at IS NULL OR claimed_at < ?`,
	} {
		res, err := s.exec(ctx, q, before.UnixMicro())
		if err != nil {
			return n, fmt.Errorf("sqlite: prune checks done before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("sqlite: prune checks: %w", err)
		}
		n += int(affected)
	}
	return n, nil
}
