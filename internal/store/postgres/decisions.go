package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/adofleet/adofleet/internal/store"
)

// AppendDecision records d.
func (s *Store) AppendDecision(ctx context.Context, d store.Decision) (err error) {
	defer s.m.observe("append_decision", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.exec(ctx, s.q(`INSERT INTO {s}.decisions (time, pool, action, target, reason) VALUES ($1, $2, $3, $4, $5)`),
		toDB(d.Time), d.Pool, d.Action, d.Target, d.Reason); err != nil {
		return fmt.Errorf("postgres: append decision %s %q for pool %q: %w", d.Action, d.Target, d.Pool, err)
	}
	return nil
}

// ListDecisions returns the newest decisions first (ties: the later appended first), at most
// limit (no limit if limit <= 0), of pool ("" = every pool).
func (s *Store) ListDecisions(ctx context.Context, pool string, limit int) (out []store.Decision, err error) {
	defer s.m.observe("list_decisions", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var lim *int // NULL: LIMIT ALL
	if limit > 0 {
		lim = &limit
	}
	var rows pgx.Rows
	if pool == "" {
		rows, err = s.pool.Query(ctx, s.q(`SELECT time, pool, action, target, reason FROM {s}.decisions
			ORDER BY time DESC NULLS LAST, id DESC LIMIT $1`), lim)
	} else {
		rows, err = s.pool.Query(ctx, s.q(`SELECT time, pool, action, target, reason FROM {s}.decisions
			WHERE pool = $1 ORDER BY time DESC NULLS LAST, id DESC LIMIT $2`), pool, lim)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: list decisions of pool %q: %w", pool, err)
	}
	out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Decision, error) {
		var (
			d  store.Decision
			at pgtype.Timestamptz
		)
		err := row.Scan(&at, &d.Pool, &d.Action, &d.Target, &d.Reason)
		d.Time = fromDB(at)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list decisions of pool %q: %w", pool, err)
	}
	return out, nil
}

// ClaimCallback records key as sent with result; true only for the first claim of key. The
// primary key makes the insert the claim, so racing claimers (in any process) cannot both win.
func (s *Store) ClaimCallback(ctx context.Context, key store.CallbackKey, result string, at time.Time) (claimed bool, err error) {
	defer s.m.observe("claim_callback", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`INSERT INTO {s}.callbacks (plan_id, job_id, task_instance_id, result, claimed_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`),
		key.PlanID, key.JobID, key.TaskInstanceID, result, toDB(at))
	if err != nil {
		return false, fmt.Errorf("postgres: claim callback plan %q job %q task %q: %w", key.PlanID, key.JobID, key.TaskInstanceID, err)
	}
	return tag.RowsAffected() == 1, nil
}
