package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// AppendDecision records d.
func (s *Store) AppendDecision(ctx context.Context, d store.Decision) (err error) {
	defer s.m.observe("append_decision", time.Now(), &err)
	if _, err := s.exec(ctx, `INSERT INTO decisions (time, pool, action, target, reason) VALUES (?, ?, ?, ?, ?)`,
		toDB(d.Time), d.Pool, d.Action, d.Target, d.Reason); err != nil {
		return fmt.Errorf("sqlite: append decision %s %q for pool %q: %w", d.Action, d.Target, d.Pool, err)
	}
	return nil
}

// ListDecisions returns the newest decisions first (ties: the later appended first), at most
// limit (no limit if limit <= 0), of pool ("" = every pool).
func (s *Store) ListDecisions(ctx context.Context, pool string, limit int) (out []store.Decision, err error) {
	defer s.m.observe("list_decisions", time.Now(), &err)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	var rows *sql.Rows
	if pool == "" {
		rows, err = s.r.QueryContext(ctx, `SELECT time, pool, action, target, reason FROM decisions
			ORDER BY time DESC, id DESC LIMIT ?`, limit)
	} else {
		rows, err = s.r.QueryContext(ctx, `SELECT time, pool, action, target, reason FROM decisions
			WHERE pool = ? ORDER BY time DESC, id DESC LIMIT ?`, pool, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: list decisions of pool %q: %w", pool, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d  store.Decision
			at sql.NullInt64
		)
		if err := rows.Scan(&at, &d.Pool, &d.Action, &d.Target, &d.Reason); err != nil {
			return nil, fmt.Errorf("sqlite: list decisions of pool %q: %w", pool, err)
		}
		d.Time = fromDB(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list decisions of pool %q: %w", pool, err)
	}
	return out, nil
}

// PruneDecisions keeps the newest keep decisions of each pool, deletes the rest, and returns
// how many it deleted. Per pool, so a busy pool does not push a quiet pool's history out.
func (s *Store) PruneDecisions(ctx context.Context, keep int) (n int, err error) {
	defer s.m.observe("prune_decisions", time.Now(), &err)
	if keep < 0 {
		return 0, fmt.Errorf("sqlite: prune decisions: keep %d is negative", keep)
	}
	res, err := s.exec(ctx, `DELETE FROM decisions WHERE id IN (
		SELECT id FROM (
			SELECT id, row_number() OVER (PARTITION BY pool ORDER BY time DESC, id DESC) AS age
			FROM decisions)
		WHERE age > ?)`, keep)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune decisions to %d per pool: %w", keep, err)
	}
	affected, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune decisions: %w", err)
	}
	return int(affected), nil
}

// ClaimCallback records key as sent with result; true only for the first claim of key. The
// primary key makes the insert the claim, so racing claimers cannot both win.
func (s *Store) ClaimCallback(ctx context.Context, key store.CallbackKey, result string, at time.Time) (claimed bool, err error) {
	defer s.m.observe("claim_callback", time.Now(), &err)
	res, err := s.exec(ctx, `INSERT INTO callbacks (plan_id, job_id, task_instance_id, result, claimed_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		key.PlanID, key.JobID, key.TaskInstanceID, result, toDB(at))
	if err != nil {
		return false, fmt.Errorf("sqlite: claim callback plan %q job %q task %q: %w", key.PlanID, key.JobID, key.TaskInstanceID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: claim callback plan %q job %q task %q: %w", key.PlanID, key.JobID, key.TaskInstanceID, err)
	}
	return n == 1, nil
}
