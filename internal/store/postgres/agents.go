package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/adofleet/adofleet/internal/store"
)

const agentColumns = `name, pool, launch_token, template, instance_id, agent_id, state, reason,
	created_at, updated_at, registered_at, job_request_id, version`

// CreateAgent inserts r with Version 1; ErrConflict if the name is taken.
func (s *Store) CreateAgent(ctx context.Context, r store.AgentRecord) (err error) {
	defer s.m.observe("create_agent", time.Now(), &err)
	if r.Name == "" {
		return errors.New("postgres: create agent: empty name")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`INSERT INTO {s}.agents (`+agentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)
		ON CONFLICT (name) DO NOTHING`),
		r.Name, r.Pool, r.LaunchToken, r.Template, r.InstanceID, r.AgentID, string(r.State), r.Reason,
		toDB(r.CreatedAt), toDB(r.UpdatedAt), toDB(r.RegisteredAt), r.JobRequestID)
	if err != nil {
		return fmt.Errorf("postgres: create agent %q: %w", r.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create agent %q: %w", r.Name, store.ErrConflict)
	}
	return nil
}

// GetAgent returns the record for name, or ErrNotFound.
func (s *Store) GetAgent(ctx context.Context, name string) (r store.AgentRecord, err error) {
	defer s.m.observe("get_agent", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	r, err = scanAgent(s.pool.QueryRow(ctx, s.q(`SELECT `+agentColumns+` FROM {s}.agents WHERE name = $1`), name))
	if err != nil {
		return store.AgentRecord{}, fmt.Errorf("postgres: get agent %q: %w", name, notFound(err))
	}
	return r, nil
}

// UpdateAgent writes r if r.Version is the stored version, and returns the record as stored.
func (s *Store) UpdateAgent(ctx context.Context, r store.AgentRecord) (out store.AgentRecord, err error) {
	defer s.m.observe("update_agent", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	out, err = updateRow(ctx, s, scanAgent, `UPDATE {s}.agents SET
		pool = $3, launch_token = $4, template = $5, instance_id = $6, agent_id = $7, state = $8,
		reason = $9, created_at = $10, updated_at = $11, registered_at = $12, job_request_id = $13,
		version = version + 1
		WHERE name = $1 AND version = $2
		RETURNING `+agentColumns,
		`SELECT version FROM {s}.agents WHERE name = $1`, r.Name, r.Version,
		r.Pool, r.LaunchToken, r.Template, r.InstanceID, r.AgentID, string(r.State),
		r.Reason, toDB(r.CreatedAt), toDB(r.UpdatedAt), toDB(r.RegisteredAt), r.JobRequestID)
	if err != nil {
		return store.AgentRecord{}, fmt.Errorf("postgres: update agent %q: %w", r.Name, err)
	}
	return out, nil
}

// updateRow runs update, a versioned "UPDATE ... SET ..., version = version + 1 WHERE <key> = $1
// AND version = $2 RETURNING ...", and scans the row it returns; the statement is bound to key,
// have, then set. If no row matched, missedUpdate tells why with versionQuery.
func updateRow[R any](ctx context.Context, s *Store, scan func(pgx.Row) (R, error), update, versionQuery, key string, have int64, set ...any) (R, error) {
	var out R
	err := s.write(ctx, func(db dbtx) error {
		var err error
		out, err = scan(db.QueryRow(ctx, s.q(update), append([]any{key, have}, set...)...))
		if errors.Is(err, pgx.ErrNoRows) {
			return s.missedUpdate(ctx, db, versionQuery, key, have)
		}
		return err
	})
	if err != nil {
		var zero R
		return zero, err
	}
	return out, nil
}

// missedUpdate explains a conditional UPDATE that matched no row: ErrNotFound if the key is
// absent, ErrConflict (with both versions) if the stored version moved.
func (s *Store) missedUpdate(ctx context.Context, db dbtx, versionQuery, key string, have int64) error {
	var stored int64
	err := db.QueryRow(ctx, s.q(versionQuery), key).Scan(&stored)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("have version %d, stored %d: %w", have, stored, store.ErrConflict)
}

// ListAgents returns the pool's records ("" = every pool) in any of states (none = all), by name.
func (s *Store) ListAgents(ctx context.Context, pool string, states ...store.AgentState) (out []store.AgentRecord, err error) {
	defer s.m.observe("list_agents", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var (
		where []string
		args  []any
	)
	if pool != "" {
		args = append(args, pool)
		where = append(where, fmt.Sprintf("pool = $%d", len(args)))
	}
	if len(states) > 0 {
		names := make([]string, len(states))
		for i, st := range states {
			names[i] = string(st)
		}
		args = append(args, names)
		where = append(where, fmt.Sprintf("state = ANY($%d)", len(args)))
	}
	q := `SELECT ` + agentColumns + ` FROM {s}.agents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.pool.Query(ctx, s.q(q+` ORDER BY name`), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list agents of pool %q: %w", pool, err)
	}
	out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AgentRecord, error) { return scanAgent(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list agents of pool %q: %w", pool, err)
	}
	return out, nil
}

// DeleteAgent removes the record; an absent record is not an error.
func (s *Store) DeleteAgent(ctx context.Context, name string) (err error) {
	defer s.m.observe("delete_agent", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.exec(ctx, s.q(`DELETE FROM {s}.agents WHERE name = $1`), name); err != nil {
		return fmt.Errorf("postgres: delete agent %q: %w", name, err)
	}
	return nil
}

func scanAgent(row pgx.Row) (store.AgentRecord, error) {
	var (
		r                            store.AgentRecord
		state                        string
		created, updated, registered pgtype.Timestamptz
	)
	err := row.Scan(&r.Name, &r.Pool, &r.LaunchToken, &r.Template, &r.InstanceID, &r.AgentID, &state,
		&r.Reason, &created, &updated, &registered, &r.JobRequestID, &r.Version)
	if err != nil {
		return store.AgentRecord{}, err
	}
	r.State = store.AgentState(state)
	r.CreatedAt, r.UpdatedAt, r.RegisteredAt = fromDB(created), fromDB(updated), fromDB(registered)
	return r, nil
}

// notFound maps "no row" to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// toDB stores a time as a timestamptz (an instant; the zone is not kept); NULL is zero.
func toDB(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// fromDB reads a timestamptz back in UTC.
func fromDB(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}
