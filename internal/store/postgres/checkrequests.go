package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/adofleet/adofleet/internal/store"
)

const checkColumns = `plan_id, job_id, task_instance_id, pool, plan_url, project_id, hub_name, timeline_id,
	auth_token, received_at`

// PutCheckRequest records r as pending; false if its key is recorded already. The primary key
// makes the insert the test, so racing puts (in any process) create it once.
func (s *Store) PutCheckRequest(ctx context.Context, r store.CheckRequest) (created bool, err error) {
	defer s.m.observe("put_check_request", time.Now(), &err)
	k := r.Key
	if k.PlanID == "" || k.JobID == "" || k.TaskInstanceID == "" {
		return false, fmt.Errorf("postgres: put check request %+v: plan, job and task instance ids are all required", k)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`INSERT INTO {s}.check_requests (`+checkColumns+`, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending') ON CONFLICT DO NOTHING`),
		k.PlanID, k.JobID, k.TaskInstanceID, r.Pool, r.PlanURL, r.ProjectID, r.HubName, r.TimelineID,
		r.AuthToken, toDB(r.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("postgres: put check request plan %q job %q task %q: %w", k.PlanID, k.JobID, k.TaskInstanceID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// PendingCheckRequests returns the pool's pending requests ("" = every pool), oldest first.
func (s *Store) PendingCheckRequests(ctx context.Context, pool string) (out []store.CheckRequest, err error) {
	defer s.m.observe("pending_check_requests", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, s.q(`SELECT `+checkColumns+` FROM {s}.check_requests
		WHERE state = 'pending' AND ($1 = '' OR pool = $1)
		ORDER BY received_at NULLS FIRST, plan_id, job_id, task_instance_id`), pool)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending check requests of pool %q: %w", pool, err)
	}
	out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CheckRequest, error) {
		return scanCheck(row)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: pending check requests of pool %q: %w", pool, err)
	}
	return out, nil
}

// DoneCheckRequest marks the request done with o and blanks its token; an unknown key is no error.
func (s *Store) DoneCheckRequest(ctx context.Context, key store.CallbackKey, o store.CheckOutcome) (err error) {
	defer s.m.observe("done_check_request", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.exec(ctx, s.q(`UPDATE {s}.check_requests SET state = 'done', auth_token = '',
		result = $4, reason = $5, agent = $6, sent = $7, done_at = $8
		WHERE plan_id = $1 AND job_id = $2 AND task_instance_id = $3`),
		key.PlanID, key.JobID, key.TaskInstanceID, o.Result, o.Reason, o.Agent, o.Sent, toDB(o.At)); err != nil {
		return fmt.Errorf("postgres: finish check request plan %q job %q task %q: %w", key.PlanID, key.JobID, key.TaskInstanceID, err)
	}
	return nil
}

// FinishedCheckRequests returns the pool's done requests ("" = every pool), by outcome time.
func (s *Store) FinishedCheckRequests(ctx context.Context, pool string) (out []store.FinishedCheck, err error) {
	defer s.m.observe("finished_check_requests", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, s.q(`SELECT `+checkColumns+`, result, reason, agent, sent, done_at
		FROM {s}.check_requests WHERE state = 'done' AND ($1 = '' OR pool = $1)
		ORDER BY done_at NULLS FIRST, plan_id, job_id, task_instance_id`), pool)
	if err != nil {
		return nil, fmt.Errorf("postgres: finished check requests of pool %q: %w", pool, err)
	}
	out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.FinishedCheck, error) {
		var (
			f  store.FinishedCheck
			at pgtype.Timestamptz
		)
		r, err := scanCheck(row, &f.Outcome.Result, &f.Outcome.Reason, &f.Outcome.Agent, &f.Outcome.Sent, &at)
		f.Request, f.Outcome.At = r, fromDB(at)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: finished check requests of pool %q: %w", pool, err)
	}
	return out, nil
}

// scanCheck reads checkColumns, then extra.
func scanCheck(row pgx.Row, extra ...any) (store.CheckRequest, error) {
	var (
		r  store.CheckRequest
		at pgtype.Timestamptz
	)
	dest := append([]any{&r.Key.PlanID, &r.Key.JobID, &r.Key.TaskInstanceID, &r.Pool, &r.PlanURL, &r.ProjectID,
		&r.HubName, &r.TimelineID, &r.AuthToken, &at}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.CheckRequest{}, err
	}
	r.ReceivedAt = fromDB(at)
	return r, nil
}
