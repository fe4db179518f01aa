package checks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/store"
)

var _ Requests = (*SQLiteRequests)(nil)

// SQLiteRequests keeps check requests in their own table (check_requests) of an SQLite file,
// normally the state store's own file: it opens its own connection, in WAL mode, beside the
// store's. The job token is kept while the request is pending (a restarted controller needs it
// to call back) and blanked when it is done; protect the file as you protect the store.
type SQLiteRequests struct {
	db *sql.DB // one connection: writes are serialized, reads are few and small
}

const createRequests = `CREATE TABLE IF NOT EXISTS check_requests (
	plan_id          TEXT    NOT NULL,
	job_id           TEXT    NOT NULL,
	task_instance_id TEXT    NOT NULL,
	pool             TEXT    NOT NULL,
	plan_url         TEXT    NOT NULL,
	project_id       TEXT    NOT NULL,
	hub_name         TEXT    NOT NULL,
	timeline_id      TEXT    NOT NULL,
	auth_token       TEXT    NOT NULL,
	received_at      INTEGER NOT NULL,
	state            TEXT    NOT NULL, -- pending, done
	result           TEXT    NOT NULL DEFAULT '',
	reason           TEXT    NOT NULL DEFAULT '',
	agent            TEXT    NOT NULL DEFAULT '',
	sent             INTEGER NOT NULL DEFAULT 0,
	done_at          INTEGER,
	PRIMARY KEY (plan_id, job_id, task_instance_id)
) STRICT;
CREATE INDEX IF NOT EXISTS check_requests_pending ON check_requests (state, pool, received_at);`

// OpenSQLiteRequests opens (creating if needed) the check_requests table in the SQLite file at path.
func OpenSQLiteRequests(ctx context.Context, path string) (*SQLiteRequests, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("checks: open requests %q: want a plain file path", path)
	}
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	q.Set("_journal_mode", "WAL")
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "FULL") // a recorded check must survive a power cut: ADO will not ask again
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("checks: open requests %q: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if _, err := db.ExecContext(ctx, createRequests); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("checks: open requests %q: create table: %w", path, err)
	}
	return &SQLiteRequests{db: db}, nil
}

// Close closes the connection.
func (s *SQLiteRequests) Close() error { return s.db.Close() }

func (s *SQLiteRequests) Put(ctx context.Context, r CheckRequest) (bool, error) {
	p := r.Plan
	res, err := s.db.ExecContext(ctx, `INSERT INTO check_requests
		(plan_id, job_id, task_instance_id, pool, plan_url, project_id, hub_name, timeline_id, auth_token, received_at, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT DO NOTHING`,
		p.PlanID, p.JobID, p.TaskInstanceID, r.Pool, p.PlanURL, p.ProjectID, p.HubName, p.TimelineID, p.AuthToken,
		r.ReceivedAt.UTC().UnixMicro())
	if err != nil {
		return false, fmt.Errorf("checks: record request plan %q job %q: %w", p.PlanID, p.JobID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("checks: record request plan %q job %q: %w", p.PlanID, p.JobID, err)
	}
	return n == 1, nil
}

func (s *SQLiteRequests) Pending(ctx context.Context, pool string) ([]CheckRequest, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT plan_id, job_id, task_instance_id, pool, plan_url, project_id,
		hub_name, timeline_id, auth_token, received_at FROM check_requests
		WHERE state = 'pending' AND (? = '' OR pool = ?) ORDER BY received_at, plan_id, job_id, task_instance_id`, pool, pool)
	if err != nil {
		return nil, fmt.Errorf("checks: list pending requests of pool %q: %w", pool, err)
	}
	defer rows.Close()
	var out []CheckRequest
	for rows.Next() {
		var r CheckRequest
		var p ado.PlanRef
		var at int64
		if err := rows.Scan(&p.PlanID, &p.JobID, &p.TaskInstanceID, &r.Pool, &p.PlanURL, &p.ProjectID,
			&p.HubName, &p.TimelineID, &p.AuthToken, &at); err != nil {
			return nil, fmt.Errorf("checks: list pending requests of pool %q: %w", pool, err)
		}
		r.Plan, r.ReceivedAt = p, time.UnixMicro(at).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks: list pending requests of pool %q: %w", pool, err)
	}
	return out, nil
}

func (s *SQLiteRequests) Done(ctx context.Context, key store.CallbackKey, o Outcome) error {
	if o.Result != ResultSucceeded && o.Result != ResultFailed {
		return fmt.Errorf("checks: finish request plan %q job %q: result %q is not %s or %s", key.PlanID, key.JobID, o.Result, ResultSucceeded, ResultFailed)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE check_requests SET state = 'done', auth_token = '', result = ?,
		reason = ?, agent = ?, sent = ?, done_at = ? WHERE plan_id = ? AND job_id = ? AND task_instance_id = ?`,
		o.Result, o.Reason, o.Agent, o.Sent, o.At.UTC().UnixMicro(), key.PlanID, key.JobID, key.TaskInstanceID)
	if err != nil {
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
func (s *SQLiteRequests) Finished(ctx context.Context, pool string) ([]Finished, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT plan_id, job_id, task_instance_id, pool, result, reason, agent, sent,
		done_at, auth_token FROM check_requests WHERE state = 'done' AND (? = '' OR pool = ?) ORDER BY done_at, plan_id`, pool, pool)
	if err != nil {
		return nil, fmt.Errorf("checks: list finished requests of pool %q: %w", pool, err)
	}
	defer rows.Close()
	var out []Finished
	for rows.Next() {
		var f Finished
		var at int64
		var token string
		if err := rows.Scan(&f.Key.PlanID, &f.Key.JobID, &f.Key.TaskInstanceID, &f.Pool, &f.Outcome.Result,
			&f.Outcome.Reason, &f.Outcome.Agent, &f.Outcome.Sent, &at, &token); err != nil {
			return nil, fmt.Errorf("checks: list finished requests of pool %q: %w", pool, err)
		}
		if token != "" {
			return nil, errors.New("checks: a finished request still holds its token") // Done must blank it
		}
		f.Outcome.At = time.UnixMicro(at).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checks: list finished requests of pool %q: %w", pool, err)
	}
	return out, nil
}
