package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/adofleet/adofleet/internal/store"
)

var _ store.Leases = (*Store)(nil)

// AcquireLease takes or renews lease name for holder (see store.Leases). One upsert decides it:
// INSERT ... ON CONFLICT DO UPDATE ... WHERE locks the row, so of two replicas racing for the
// same prior state exactly one updates it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (l store.Lease, err error) {
	defer s.m.observe("acquire_lease", time.Now(), &err)
	if name == "" || holder == "" {
		return store.Lease{}, fmt.Errorf("postgres: acquire lease %q for %q: empty lease name or holder", name, holder)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	l, err = scanLease(name, s.pool.QueryRow(ctx, s.q(`INSERT INTO {s}.leases AS l (name, holder, token, expires)
		VALUES ($1, $2, 1, $3)
		ON CONFLICT (name) DO UPDATE SET
			token = CASE WHEN l.holder = excluded.holder THEN l.token ELSE l.token + 1 END,
			holder = excluded.holder,
			expires = excluded.expires
		WHERE l.holder = excluded.holder OR l.expires <= $4
		RETURNING holder, token, expires`), name, holder, now.Add(ttl), now))
	if errors.Is(err, pgx.ErrNoRows) {
		// Another holder's unexpired lease stands: report it.
		cur, rerr := scanLease(name, s.pool.QueryRow(ctx, s.q(`SELECT holder, token, expires FROM {s}.leases WHERE name = $1`), name))
		if rerr != nil {
			return store.Lease{}, fmt.Errorf("postgres: acquire lease %q for %q: read the standing lease: %w", name, holder, rerr)
		}
		return cur, fmt.Errorf("postgres: acquire lease %q for %q: held by %q until %s: %w",
			name, holder, cur.Holder, cur.Expires.Format(time.RFC3339Nano), store.ErrConflict)
	}
	if err != nil {
		return store.Lease{}, fmt.Errorf("postgres: acquire lease %q for %q: %w", name, holder, err)
	}
	return l, nil
}

// ReleaseLease ends l at once if its holder still holds it with its token; the token stays, so
// the next holder's is one more.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) (err error) {
	defer s.m.observe("release_lease", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, s.q(`UPDATE {s}.leases SET holder = '', expires = to_timestamp(0)
		WHERE name = $1 AND holder = $2 AND token = $3`), l.Name, l.Holder, l.Token); err != nil {
		return fmt.Errorf("postgres: release lease %q of %q: %w", l.Name, l.Holder, err)
	}
	return nil
}

func scanLease(name string, row pgx.Row) (store.Lease, error) {
	l := store.Lease{Name: name}
	var expires time.Time
	if err := row.Scan(&l.Holder, &l.Token, &expires); err != nil {
		return store.Lease{}, err
	}
	l.Expires = expires.UTC()
	return l, nil
}
