package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

var _ store.Leases = (*Store)(nil)

// AcquireLease takes or renews lease name for holder (see store.Leases). One upsert decides it:
// SQLite runs a statement under the database's write lock, so two controllers on one file (or
// two goroutines) cannot both win the same prior state.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (l store.Lease, err error) {
	defer s.m.observe("acquire_lease", time.Now(), &err)
	if name == "" || holder == "" {
		return store.Lease{}, fmt.Errorf("sqlite: acquire lease %q for %q: empty lease name or holder", name, holder)
	}
	expires := now.Add(ttl)
	row := s.w.QueryRowContext(ctx, `INSERT INTO leases (name, holder, token, expires) VALUES (?, ?, 1, ?)
		ON CONFLICT (name) DO UPDATE SET
			token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE leases.token + 1 END,
			holder = excluded.holder,
			expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires <= ?
		RETURNING holder, token, expires`,
		name, holder, expires.UnixMicro(), now.UnixMicro())
	l, err = scanLease(name, row)
	if errors.Is(err, sql.ErrNoRows) {
		// Another holder's unexpired lease stands: report it.
		cur, rerr := scanLease(name, s.w.QueryRowContext(ctx, `SELECT holder, token, expires FROM leases WHERE name = ?`, name))
		if rerr != nil {
			return store.Lease{}, fmt.Errorf("sqlite: acquire lease %q for %q: read the standing lease: %w", name, holder, rerr)
		}
		return cur, fmt.Errorf("sqlite: acquire lease %q for %q: held by %q until %s: %w",
			name, holder, cur.Holder, cur.Expires.Format(time.RFC3339Nano), store.ErrConflict)
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("sqlite: acquire lease %q for %q: %w", name, holder, err)
	}
	return l, nil
}

// ReleaseLease ends l at once if its holder still holds it with its token; the token stays, so
// the next holder's is one more.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) (err error) {
	defer s.m.observe("release_lease", time.Now(), &err)
	if _, err := s.w.ExecContext(ctx, `UPDATE leases SET holder = '', expires = 0
		WHERE name = ? AND holder = ? AND token = ?`, l.Name, l.Holder, l.Token); err != nil {
		return fmt.Errorf("sqlite: release lease %q of %q: %w", l.Name, l.Holder, err)
	}
	return nil
}

func scanLease(name string, sc scanner) (store.Lease, error) {
	l := store.Lease{Name: name}
	var expires int64
	if err := sc.Scan(&l.Holder, &l.Token, &expires); err != nil {
		return store.Lease{}, err
	}
	l.Expires = time.UnixMicro(expires).UTC()
	return l, nil
}
