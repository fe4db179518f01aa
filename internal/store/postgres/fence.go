package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/adofleet/adofleet/internal/store"
)

// Fencing: every write goes through exec, write or begin. A write whose context carries a
// store.Fence runs in a transaction that first reads the lease row FOR SHARE: a takeover (an
// UPDATE of that row) waits until the write commits or rolls back, and a write that starts
// after a takeover sees the new token and is refused with store.ErrFenced, changing nothing.

// dbtx is what a write runs on: the pool, or a fenced transaction.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// write runs fn on the pool, or in a fenced transaction when ctx carries a fence (committed if
// fn returns nil).
func (s *Store) write(ctx context.Context, fn func(db dbtx) error) error {
	if _, ok := store.FenceFrom(ctx); !ok {
		return fn(s.pool)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// exec runs one write statement (already qualified by s.q), fenced when ctx carries a fence.
func (s *Store) exec(ctx context.Context, query string, args ...any) (tag pgconn.CommandTag, err error) {
	err = s.write(ctx, func(db dbtx) error {
		tag, err = db.Exec(ctx, query, args...)
		return err
	})
	return tag, err
}

// begin starts a transaction and, when ctx carries a fence, checks it first.
func (s *Store) begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if f, ok := store.FenceFrom(ctx); ok {
		if err := s.checkFence(ctx, tx, f); err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return tx, nil
}

// checkFence fails with ErrFenced unless lease f.Lease's token is f.Token (a missing lease has
// no token: fenced too), and holds a share lock on the lease row to the end of tx.
func (s *Store) checkFence(ctx context.Context, tx pgx.Tx, f store.Fence) error {
	var token int64
	err := tx.QueryRow(ctx, s.q(`SELECT token FROM {s}.leases WHERE name = $1 FOR SHARE`), f.Lease).Scan(&token)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("check lease %q: %w", f.Lease, err)
	}
	return f.Admit(token, err == nil)
}
