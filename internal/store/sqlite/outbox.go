package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

const outboxColumns = `id, route, dedup_key, payload, state, attempts, next_attempt, last_error,
	created_at, updated_at, delivered_at, expires_at, version`

// EnqueueMessage stores m as pending unless the same alert (Route and DedupKey) was enqueued at
// or after dedupSince. The check and the insert run in one BEGIN IMMEDIATE transaction on the
// single writer, so concurrent enqueues of one alert store it once.
func (s *Store) EnqueueMessage(ctx context.Context, m store.OutboxMessage, dedupSince time.Time) (stored bool, err error) {
	defer s.m.observe("enqueue_message", time.Now(), &err)
	switch {
	case m.ID == "":
		return false, fmt.Errorf("sqlite: enqueue message for route %q: empty ID", m.Route)
	case m.Route == "":
		return false, fmt.Errorf("sqlite: enqueue message %q: empty route", m.ID)
	}
	stored, err = s.enqueue(ctx, m, dedupSince)
	if err != nil {
		return false, fmt.Errorf("sqlite: enqueue message %q for route %q: %w", m.ID, m.Route, err)
	}
	return stored, nil
}

func (s *Store) enqueue(ctx context.Context, m store.OutboxMessage, dedupSince time.Time) (bool, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if m.DedupKey != "" {
		q, args := `SELECT EXISTS (SELECT 1 FROM outbox WHERE route = ? AND dedup_key = ?`, []any{m.Route, m.DedupKey}
		if !dedupSince.IsZero() { // zero: any earlier message counts, even one with no CreatedAt
			q, args = q+` AND created_at >= ?`, append(args, dedupSince.UnixMicro())
		}
		var dup bool
		if err := tx.QueryRowContext(ctx, q+`)`, args...).Scan(&dup); err != nil {
			return false, fmt.Errorf("look for a duplicate: %w", err)
		}
		if dup {
			return false, nil
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (`+outboxColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (id) DO NOTHING`,
		m.ID, m.Route, m.DedupKey, payloadToDB(m.Payload), string(store.OutboxPending), m.Attempts,
		toDB(m.NextAttempt), m.LastError, toDB(m.CreatedAt), toDB(m.UpdatedAt), toDB(m.DeliveredAt),
		toDB(m.ExpiresAt))
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n == 0 {
		return false, store.ErrConflict
	}
	return true, tx.Commit()
}

// DueMessages returns pending messages due at now, earliest NextAttempt first (never-scheduled
// ones, stored as NULL, sort first).
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) (out []store.OutboxMessage, err error) {
	defer s.m.observe("due_messages", time.Now(), &err)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE state = ? AND (next_attempt IS NULL OR next_attempt <= ?)
		ORDER BY next_attempt, created_at, id LIMIT ?`,
		string(store.OutboxPending), now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due messages at %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: due messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: due messages: %w", err)
	}
	return out, nil
}

// GetMessage returns the message with that ID, or ErrNotFound.
func (s *Store) GetMessage(ctx context.Context, id string) (m store.OutboxMessage, err error) {
	defer s.m.observe("get_message", time.Now(), &err)
	m, err = scanMessage(s.r.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("sqlite: get message %q: %w", id, err)
	}
	return m, nil
}

// UpdateMessage writes m if m.Version is the stored version, and returns it as stored.
func (s *Store) UpdateMessage(ctx context.Context, m store.OutboxMessage) (out store.OutboxMessage, err error) {
	defer s.m.observe("update_message", time.Now(), &err)
	out, err = updateRow(ctx, s, scanMessage, `UPDATE outbox SET
		route = ?, dedup_key = ?, payload = ?, state = ?, attempts = ?, next_attempt = ?,
		last_error = ?, created_at = ?, updated_at = ?, delivered_at = ?, expires_at = ?,
		version = version + 1
		WHERE id = ? AND version = ?
		RETURNING `+outboxColumns,
		`SELECT version FROM outbox WHERE id = ?`, m.ID, m.Version,
		m.Route, m.DedupKey, payloadToDB(m.Payload), string(m.State), m.Attempts, toDB(m.NextAttempt),
		m.LastError, toDB(m.CreatedAt), toDB(m.UpdatedAt), toDB(m.DeliveredAt), toDB(m.ExpiresAt))
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("sqlite: update message %q: %w", m.ID, err)
	}
	return out, nil
}

// CountMessages returns how many messages are in each state; states with none are absent.
func (s *Store) CountMessages(ctx context.Context) (counts map[store.OutboxState]int, err error) {
	defer s.m.observe("count_messages", time.Now(), &err)
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count messages: %w", err)
	}
	defer rows.Close()
	counts = map[store.OutboxState]int{}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count messages: %w", err)
		}
		counts[store.OutboxState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count messages: %w", err)
	}
	return counts, nil
}

// PruneMessages deletes delivered and dead messages whose ExpiresAt is set and before now, and
// returns how many. Pending messages are never pruned, whatever their ExpiresAt.
func (s *Store) PruneMessages(ctx context.Context, now time.Time) (n int, err error) {
	defer s.m.observe("prune_messages", time.Now(), &err)
	res, err := s.exec(ctx, `DELETE FROM outbox
		WHERE state IN (?, ?) AND expires_at IS NOT NULL AND expires_at < ?`,
		string(store.OutboxDelivered), string(store.OutboxDead), now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune messages expired before %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	affected, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune messages: %w", err)
	}
	return int(affected), nil
}

func scanMessage(sc scanner) (store.OutboxMessage, error) {
	var (
		m                                          store.OutboxMessage
		state                                      string
		next, created, updated, delivered, expires sql.NullInt64
	)
	err := sc.Scan(&m.ID, &m.Route, &m.DedupKey, &m.Payload, &state, &m.Attempts, &next, &m.LastError,
		&created, &updated, &delivered, &expires, &m.Version)
	if err != nil {
		return store.OutboxMessage{}, err
	}
	m.State = store.OutboxState(state)
	m.NextAttempt, m.CreatedAt, m.UpdatedAt = fromDB(next), fromDB(created), fromDB(updated)
	m.DeliveredAt, m.ExpiresAt = fromDB(delivered), fromDB(expires)
	return m, nil
}

// payloadToDB never binds nil: the column is NOT NULL, and an empty payload is still a payload.
func payloadToDB(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}
