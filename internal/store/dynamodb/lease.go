package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/adofleet/adofleet/internal/store"
)

var _ store.Leases = (*Store)(nil)

// leaseAttempts bounds how often AcquireLease re-reads after losing a race to another writer of
// the lease item (a renewal or a release that landed between its read and its write).
const leaseAttempts = 3

// leasePK is the partition of one lease's item; leases are read by key only, never expire (a
// token must never go back) and never share a partition.
func leasePK(name string) string { return "lease#" + name }

// AcquireLease takes or renews lease name for holder (see store.Leases): a consistent read, then
// a PutItem conditioned on the exact state read (holder, token and expiry), so of two replicas
// racing from one state only one write lands.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (l store.Lease, err error) {
	defer s.m.observe("acquire_lease", time.Now(), &err)
	if name == "" || holder == "" {
		return store.Lease{}, fmt.Errorf("dynamodb: acquire lease %q for %q: empty lease name or holder", name, holder)
	}
	for range leaseAttempts {
		cur, exists, err := s.readLease(ctx, name)
		if err != nil {
			return store.Lease{}, fmt.Errorf("dynamodb: acquire lease %q for %q: %w", name, holder, err)
		}
		next := store.Lease{Name: name, Holder: holder, Token: 1, Expires: micro(now.Add(ttl))}
		switch {
		case !exists:
		case cur.Holder == holder:
			next.Token = cur.Token
		case !now.Before(cur.Expires):
			next.Token = cur.Token + 1
		default:
			return cur, fmt.Errorf("dynamodb: acquire lease %q for %q: held by %q until %s: %w",
				name, holder, cur.Holder, cur.Expires.Format(time.RFC3339Nano), store.ErrConflict)
		}
		err = s.putLease(ctx, next, cur, exists)
		if err == nil {
			return next, nil
		}
		if !conditionFailed(err) {
			return store.Lease{}, fmt.Errorf("dynamodb: acquire lease %q for %q: %w", name, holder, err)
		}
	}
	return store.Lease{}, fmt.Errorf("dynamodb: acquire lease %q for %q: lost %d races for the lease item: %w", name, holder, leaseAttempts, store.ErrConflict)
}

// ReleaseLease ends l at once if its holder still holds it with its token; the token stays, so
// the next holder's is one more.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) (err error) {
	defer s.m.observe("release_lease", time.Now(), &err)
	it := leaseItem(store.Lease{Name: l.Name, Token: l.Token})
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.opts.Client.PutItem(ctx, &ddb.PutItemInput{
			TableName: s.table, Item: it,
			ConditionExpression:       aws.String("#holder = :holder AND #token = :token"),
			ExpressionAttributeNames:  map[string]string{"#holder": "holder", "#token": "token"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":holder": sval(l.Holder), ":token": num(l.Token)},
		})
		return err
	})
	if err != nil && !conditionFailed(err) { // lost already: not an error
		return fmt.Errorf("dynamodb: release lease %q of %q: %w", l.Name, l.Holder, err)
	}
	return nil
}

// putLease writes next if the item is still as read (prev, or absent if !exists).
func (s *Store) putLease(ctx context.Context, next, prev store.Lease, exists bool) error {
	in := &ddb.PutItemInput{TableName: s.table, Item: leaseItem(next)}
	if exists {
		in.ExpressionAttributeNames = map[string]string{"#holder": "holder", "#token": "token", "#expires": "expires"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":token": num(prev.Token), ":expires": num(prev.Expires.UnixMicro()),
		}
		held := "attribute_not_exists(#holder)" // released
		if prev.Holder != "" {
			held, in.ExpressionAttributeValues[":holder"] = "#holder = :holder", sval(prev.Holder)
		}
		in.ConditionExpression = aws.String(held + " AND #token = :token AND #expires = :expires")
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	}
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.opts.Client.PutItem(ctx, in)
		return err
	})
}

// readLease reads the lease (consistently); ok is false if it was never taken.
func (s *Store) readLease(ctx context.Context, name string) (l store.Lease, ok bool, err error) {
	it, err := s.get(ctx, leasePK(name), skSingle)
	if err != nil || it == nil {
		return store.Lease{}, false, err
	}
	r := reader{it: it}
	l = store.Lease{Name: name, Holder: r.s("holder"), Token: r.n("token"), Expires: time.UnixMicro(r.n("expires")).UTC()}
	if _, has := it["token"]; !has && r.err == nil {
		r.err = errors.New("lease item has no token")
	}
	return l, true, r.err
}

// leaseItem is l's item. Token and expiry are written even when zero, since the next write's
// condition compares them; a released lease has no holder attribute.
func leaseItem(l store.Lease) item {
	it := newItem(leasePK(l.Name), skSingle)
	it.s("holder", l.Holder)
	it["token"] = num(l.Token)
	it["expires"] = num(l.Expires.UnixMicro())
	return it
}
