package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/adofleet/adofleet/internal/store"
)

const outboxColumns = `id, route, dedup_key, payload, state, attempts, next_attempt, last_error,
	created_at, updated_at, delivered_at, expires_at, version`

// EnqueueMessage stores m as pending unless the same alert (Route and DedupKey) was enqueued at
// or after dedupSince. The check and the insert run in one transaction holding an advisory lock
// on the alert's key, so a racing enqueue of the same alert (in any replica) waits, then sees
// the winner's message and stores nothing.
func (s *Store) EnqueueMessage(ctx context.Context, m store.OutboxMessage, dedupSince time.Time) (stored bool, err error) {
	defer s.m.observe("enqueue_message", time.Now(), &err)
	switch {
	case m.ID == "":
		return false, fmt.Errorf("postgres: enqueue message for route %q: empty ID", m.Route)
	case m.Route == "":
		return false, fmt.Errorf("postgres: enqueue message %q: empty route", m.ID)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	stored, err = s.enqueue(ctx, m, dedupSince)
	if err != nil {
		return false, fmt.Errorf("postgres: enqueue message %q for route %q: %w", m.ID, m.Route, err)
	}
	return stored, nil
}

func (s *Store) enqueue(ctx context.Context, m store.OutboxMessage, dedupSince time.Time) (bool, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	if m.DedupKey != "" {
		// Held to the end of the transaction. Keys are hashed to 64 bits: a collision only makes
		// two alerts' enqueues take turns. chr(31) keeps ("a|b","c") and ("a","b|c") apart.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2 || chr(31) || $3, 0))`,
			s.schema, m.Route, m.DedupKey); err != nil {
			return false, fmt.Errorf("lock dedup key %q: %w", m.DedupKey, err)
		}
		q, args := `SELECT EXISTS (SELECT 1 FROM {s}.outbox WHERE route = $1 AND dedup_key = $2`, []any{m.Route, m.DedupKey}
		if !dedupSince.IsZero() { // zero: any earlier message counts, even one with no CreatedAt
			q, args = q+` AND created_at >= $3`, append(args, dedupSince)
		}
		var dup bool
		if err := tx.QueryRow(ctx, s.q(q+`)`), args...).Scan(&dup); err != nil {
			return false, fmt.Errorf("look for a duplicate: %w", err)
		}
		if dup {
			return false, nil
		}
	}
	tag, err := tx.Exec(ctx, s.q(`INSERT INTO {s}.outbox (`+outboxColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)
		ON CONFLICT (id) DO NOTHING`),
		m.ID, m.Route, m.DedupKey, m.Payload, string(store.OutboxPending), m.Attempts,
		toDB(m.NextAttempt), m.LastError, toDB(m.CreatedAt), toDB(m.UpdatedAt), toDB(m.DeliveredAt),
		toDB(m.ExpiresAt))
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, store.ErrConflict
	}
	return true, tx.Commit(ctx)
}

// DueMessages returns pending messages due at now (a zero NextAttempt is due at once), earliest
// first, at most limit (all if limit <= 0).
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) (out []store.OutboxMessage, err error) {
	defer s.m.observe("due_messages", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var lim *int // NULL: LIMIT ALL
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, s.q(`SELECT `+outboxColumns+` FROM {s}.outbox
		WHERE state = $1 AND (next_attempt IS NULL OR next_attempt <= $2)
		ORDER BY next_attempt NULLS FIRST, id
		LIMIT $3`), string(store.OutboxPending), now, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: due messages at %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.OutboxMessage, error) { return scanMessage(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: due messages at %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	return out, nil
}

// GetMessage returns the message with that ID, or ErrNotFound.
func (s *Store) GetMessage(ctx context.Context, id string) (m store.OutboxMessage, err error) {
	defer s.m.observe("get_message", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	m, err = scanMessage(s.pool.QueryRow(ctx, s.q(`SELECT `+outboxColumns+` FROM {s}.outbox WHERE id = $1`), id))
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("postgres: get message %q: %w", id, notFound(err))
	}
	return m, nil
}

// UpdateMessage writes m if m.Version is the stored version, and returns the message as stored.
func (s *Store) UpdateMessage(ctx context.Context, m store.OutboxMessage) (out store.OutboxMessage, err error) {
	defer s.m.observe("update_message", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	out, err = updateRow(ctx, s, scanMessage, `UPDATE {s}.outbox SET
		route = $3, dedup_key = $4, payload = $5, state = $6, attempts = $7, next_attempt = $8,
		last_error = $9, created_at = $10, updated_at = $11, delivered_at = $12, expires_at = $13,
		version = version + 1
		WHERE id = $1 AND version = $2
		RETURNING `+outboxColumns,
		`SELECT version FROM {s}.outbox WHERE id = $1`, m.ID, m.Version,
		m.Route, m.DedupKey, m.Payload, string(m.State), m.Attempts, toDB(m.NextAttempt),
		m.LastError, toDB(m.CreatedAt), toDB(m.UpdatedAt), toDB(m.DeliveredAt), toDB(m.ExpiresAt))
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("postgres: update message %q: %w", m.ID, err)
	}
	return out, nil
}

// CountMessages returns how many messages are in each state (states with none are absent).
func (s *Store) CountMessages(ctx context.Context) (out map[store.OutboxState]int, err error) {
	defer s.m.observe("count_messages", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, s.q(`SELECT state, count(*) FROM {s}.outbox GROUP BY state`))
	if err != nil {
		return nil, fmt.Errorf("postgres: count messages: %w", err)
	}
	out = map[store.OutboxState]int{}
	var (
		state string
		n     int
	)
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		out[store.OutboxState(state)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: count messages: %w", err)
	}
	return out, nil
}

func scanMessage(row pgx.Row) (store.OutboxMessage, error) {
	var (
		m                                          store.OutboxMessage
		state                                      string
		next, created, updated, delivered, expires pgtype.Timestamptz
	)
	err := row.Scan(&m.ID, &m.Route, &m.DedupKey, &m.Payload, &state, &m.Attempts, &next, &m.LastError,
		&created, &updated, &delivered, &expires, &m.Version)
	if err != nil {
		return store.OutboxMessage{}, err
	}
	m.State = store.OutboxState(state)
	m.NextAttempt, m.CreatedAt, m.UpdatedAt = fromDB(next), fromDB(created), fromDB(updated)
	m.DeliveredAt, m.ExpiresAt = fromDB(delivered), fromDB(expires)
	return m, nil
}
