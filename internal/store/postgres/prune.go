package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// PruneAgents deletes gone records last updated before before, and returns how many.
func (s *Store) PruneAgents(ctx context.Context, before time.Time) (n int, err error) {
	defer s.m.observe("prune_agents", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`DELETE FROM {s}.agents
		WHERE state = $1 AND (updated_at IS NULL OR updated_at < $2)`), string(store.StateGone), before)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune agents before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneDecisions keeps the newest keep decisions of each pool, deletes the rest, and returns
// how many it deleted. Per pool, so a busy pool does not push a quiet pool's history out.
func (s *Store) PruneDecisions(ctx context.Context, keep int) (n int, err error) {
	defer s.m.observe("prune_decisions", time.Now(), &err)
	if keep < 0 {
		return 0, fmt.Errorf("postgres: prune decisions: keep %d is negative", keep)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`DELETE FROM {s}.decisions WHERE id IN (
		SELECT id FROM (
			SELECT id, row_number() OVER (PARTITION BY pool ORDER BY time DESC NULLS LAST, id DESC) AS age
			FROM {s}.decisions) ranked
		WHERE age > $1)`), keep)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune decisions to %d per pool: %w", keep, err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneVMs deletes gone VM records whose ExpiresAt is set and before now, and returns how many.
// Records in any other state are kept whatever their ExpiresAt.
func (s *Store) PruneVMs(ctx context.Context, now time.Time) (n int, err error) {
	defer s.m.observe("prune_vms", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`DELETE FROM {s}.vm_records
		WHERE state = $1 AND expires_at IS NOT NULL AND expires_at < $2`), string(store.VMGone), now)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune VM records expired before %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneMessages deletes delivered and dead messages whose ExpiresAt is set and before now, and
// returns how many. Pending messages are never pruned, whatever their ExpiresAt.
func (s *Store) PruneMessages(ctx context.Context, now time.Time) (n int, err error) {
	defer s.m.observe("prune_messages", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`DELETE FROM {s}.outbox
		WHERE state = ANY($1) AND expires_at IS NOT NULL AND expires_at < $2`),
		[]string{string(store.OutboxDelivered), string(store.OutboxDead)}, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune messages expired before %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneExpired runs PruneVMs and PruneMessages at the store's clock (Options.Now), for a
// periodic clean-up that has no clock of its own.
func (s *Store) PruneExpired(ctx context.Context) (vms, messages int, err error) {
	now := s.now()
	if vms, err = s.PruneVMs(ctx, now); err != nil {
		return 0, 0, err
	}
	if messages, err = s.PruneMessages(ctx, now); err != nil {
		return vms, 0, err
	}
	return vms, messages, nil
}

// PruneChecks deletes the done check requests and the callback claims older than before, and
// returns how many rows went. Pending requests stay whatever their age. A claim pruned is a key
// that could be claimed again, so before must lie beyond the longest a check can wait in ADO.
func (s *Store) PruneChecks(ctx context.Context, before time.Time) (n int, err error) {
	defer s.m.observe("prune_checks", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	for _, q := range []string{
		`DELETE FROM {s}.check_requests WHERE state = 'done' AND (done_at IS NULL OR done_at < $1)`,
		`DELETE FROM {s}.callbacks WHERE claimed_at IS NULL OR claimed_at < $1`,
	} {
		tag, err := s.exec(ctx, s.q(q), before)
		if err != nil {
			return n, fmt.Errorf("postgres: prune checks done before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}
