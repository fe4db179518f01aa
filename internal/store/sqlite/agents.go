package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

const agentColumns = `name, pool, launch_token, template, instance_id, agent_id, state, reason,
	created_at, updated_at, registered_at, job_request_id, version`

// CreateAgent inserts r with Version 1; ErrConflict if the name is taken.
func (s *Store) CreateAgent(ctx context.Context, r store.AgentRecord) (err error) {
	defer s.m.observe("create_agent", time.Now(), &err)
	if r.Name == "" {
		return errors.New("sqlite: create agent: empty name")
	}
	res, err := s.exec(ctx, `INSERT INTO agents (`+agentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (name) DO NOTHING`,
		r.Name, r.Pool, r.LaunchToken, r.Template, r.InstanceID, r.AgentID, string(r.State), r.Reason,
		toDB(r.CreatedAt), toDB(r.UpdatedAt), toDB(r.RegisteredAt), r.JobRequestID)
	if err != nil {
		return fmt.Errorf("sqlite: create agent %q: %w", r.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create agent %q: %w", r.Name, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: create agent %q: %w", r.Name, store.ErrConflict)
	}
	return nil
}

// GetAgent returns the record for name, or ErrNotFound.
func (s *Store) GetAgent(ctx context.Context, name string) (r store.AgentRecord, err error) {
	defer s.m.observe("get_agent", time.Now(), &err)
	row := s.r.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE name = ?`, name)
	r, err = scanAgent(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.AgentRecord{}, fmt.Errorf("sqlite: get agent %q: %w", name, err)
	}
	return r, nil
}

// UpdateAgent writes r if r.Version is the stored version, and returns the record as stored.
func (s *Store) UpdateAgent(ctx context.Context, r store.AgentRecord) (out store.AgentRecord, err error) {
	defer s.m.observe("update_agent", time.Now(), &err)
	out, err = updateRow(ctx, s, scanAgent, `UPDATE agents SET
		pool = ?, launch_token = ?, template = ?, instance_id = ?, agent_id = ?, state = ?,
		reason = ?, created_at = ?, updated_at = ?, registered_at = ?, job_request_id = ?,
		version = version + 1
		WHERE name = ? AND version = ?
		RETURNING `+agentColumns,
		`SELECT version FROM agents WHERE name = ?`, r.Name, r.Version,
		r.Pool, r.LaunchToken, r.Template, r.InstanceID, r.AgentID, string(r.State),
		r.Reason, toDB(r.CreatedAt), toDB(r.UpdatedAt), toDB(r.RegisteredAt), r.JobRequestID)
	if err != nil {
		return store.AgentRecord{}, fmt.Errorf("sqlite: update agent %q: %w", r.Name, err)
	}
	return out, nil
}

// updateRow runs update, a versioned "UPDATE ... SET ..., version = version + 1 WHERE <key> = ?
// AND version = ? RETURNING ...", in a transaction and scans the row it returns; the statement
// is bound to set, then key and have (the WHERE's two placeholders come last). If no row matched
// it reads the stored version with versionQuery ("SELECT version ... WHERE <key> = ?") under the
// same lock, to tell a moved version (ErrConflict, with both versions) from a missing record
// (ErrNotFound).
func updateRow[R any](ctx context.Context, s *Store, scan func(scanner) (R, error), update, versionQuery, key string, have int64, set ...any) (R, error) {
	var zero R
	tx, err := s.begin(ctx)
	if err != nil {
		return zero, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	out, err := scan(tx.QueryRowContext(ctx, update, append(set, key, have)...))
	if errors.Is(err, sql.ErrNoRows) {
		var stored int64
		switch err := tx.QueryRowContext(ctx, versionQuery, key).Scan(&stored); {
		case errors.Is(err, sql.ErrNoRows):
			return zero, store.ErrNotFound
		case err != nil:
			return zero, err
		}
		return zero, fmt.Errorf("have version %d, stored %d: %w", have, stored, store.ErrConflict)
	}
	if err != nil {
		return zero, err
	}
	return out, tx.Commit()
}

// ListAgents returns the pool's records ("" = every pool) in any of states (none = all), by name.
// The pool's records are served from the list cache while the database is unchanged
// (listcache.go) and filtered by state here.
func (s *Store) ListAgents(ctx context.Context, pool string, states ...store.AgentState) (out []store.AgentRecord, err error) {
	defer s.m.observe("list_agents", time.Now(), &err)
	recs, err := s.agents.list(ctx, nil, pool)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list agents of pool %q: %w", pool, err)
	}
	return filterStates(recs, states), nil
}

var _ store.AgentAppender = (*Store)(nil)

// AppendAgents appends pool's records in every state to dst (store.AgentAppender).
func (s *Store) AppendAgents(ctx context.Context, dst []store.AgentRecord, pool string) (out []store.AgentRecord, err error) {
	defer s.m.observe("list_agents", time.Now(), &err)
	out, err = s.agents.list(ctx, dst, pool)
	if err != nil {
		return dst, fmt.Errorf("sqlite: list agents of pool %q: %w", pool, err)
	}
	return out, nil
}

// DeleteAgent removes the record; an absent record is not an error.
func (s *Store) DeleteAgent(ctx context.Context, name string) (err error) {
	defer s.m.observe("delete_agent", time.Now(), &err)
	if _, err := s.exec(ctx, `DELETE FROM agents WHERE name = ?`, name); err != nil {
		return fmt.Errorf("sqlite: delete agent %q: %w", name, err)
	}
	return nil
}

// PruneAgents deletes gone records last updated before before, and returns how many.
func (s *Store) PruneAgents(ctx context.Context, before time.Time) (n int, err error) {
	defer s.m.observe("prune_agents", time.Now(), &err)
	res, err := s.exec(ctx, `DELETE FROM agents
		WHERE state = ? AND (updated_at IS NULL OR updated_at < ?)`, string(store.StateGone), before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune agents before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	affected, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune agents: %w", err)
	}
	return int(affected), nil
}

type scanner interface{ Scan(dest ...any) error }

func scanAgent(sc scanner) (store.AgentRecord, error) {
	var (
		r                            store.AgentRecord
		state                        string
		created, updated, registered sql.NullInt64
	)
	err := sc.Scan(&r.Name, &r.Pool, &r.LaunchToken, &r.Template, &r.InstanceID, &r.AgentID, &state,
		&r.Reason, &created, &updated, &registered, &r.JobRequestID, &r.Version)
	if err != nil {
		return store.AgentRecord{}, err
	}
	r.State = store.AgentState(state)
	r.CreatedAt, r.UpdatedAt, r.RegisteredAt = fromDB(created), fromDB(updated), fromDB(registered)
	return r, nil
}

// toDB stores a time as microseconds since the epoch (UTC by construction); NULL is zero.
func toDB(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromDB(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}
