package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/adofleet/adofleet/internal/store"
)

// Fencing: every write goes through exec or begin. A write whose context carries a store.Fence
// runs in a transaction that first reads the lease's token; the writer's transactions take the
// write lock at BEGIN (BEGIN IMMEDIATE), so no takeover can commit between that read and the
// write's commit. A stale token is store.ErrFenced and the transaction is rolled back.

// exec runs one write statement, fenced when ctx carries a fence.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if _, ok := store.FenceFrom(ctx); !ok {
		return s.w.ExecContext(ctx, query, args...)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return res, tx.Commit()
}

// begin starts a write transaction and, when ctx carries a fence, checks it first.
func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if f, ok := store.FenceFrom(ctx); ok {
		if err := checkFence(ctx, tx, f); err != nil {
			_ = tx.Rollback()
			return nil, err
		}
	}
	return tx, nil
}

// checkFence fails with ErrFenced unless lease f.Lease's token is f.Token (a missing lease has
// no token: fenced too).
func checkFence(ctx context.Context, tx *sql.Tx, f store.Fence) error {
	var token int64
	err := tx.QueryRowContext(ctx, `SELECT token FROM leases WHERE name = ?`, f.Lease).Scan(&token)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check lease %q: %w", f.Lease, err)
	}
	return f.Admit(token, err == nil)
}
