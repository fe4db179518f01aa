package dynamodb

import (
	"context"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/adofleet/adofleet/internal/store"
)

// Fencing without transactions (dynalite, the emulator the tests use, has no TransactWriteItems,
// and a transaction per write would double its cost). A write whose context carries a store.Fence:
//
//  1. reads the lease (consistent GetItem) and is refused with ErrFenced if its token moved on;
//  2. stamps the item it writes with the lease name and token (attributes fenceLease, fence), on
//     the condition that the stored item carries no newer token of that lease, so once a
//     successor has written an item no stale leader can overwrite or delete it;
//  3. when its condition fails, reads the lease again to report ErrFenced rather than a conflict.
//
// What remains is a write the stale leader issued just before the takeover, landing just after
// it on an item the successor has not written yet. The elector closes that window from the other
// side: a leader stops acting (its lead context ends) RenewDeadline after its last renewal, a
// safety margin of LeaseDuration-RenewDeadline before anyone else may take the lease. See
// docs/ha.md.

const (
	attrFence      = "fence"
	attrFenceLease = "fenceLease"
)

// guard is the fence one write is made under; the zero guard (no fence in the context) adds
// nothing and explains nothing.
type guard struct {
	s     *Store
	fence store.Fence
	on    bool
}

// guard checks ctx's fence, if any, against the stored lease.
func (s *Store) guard(ctx context.Context) (guard, error) {
	f, ok := store.FenceFrom(ctx)
	if !ok {
		return guard{}, nil
	}
	g := guard{s: s, fence: f, on: true}
	return g, g.check(ctx)
}

// check fails with ErrFenced unless the lease's token is the fence's (a missing lease has none).
func (g guard) check(ctx context.Context) error {
	l, ok, err := g.s.readLease(ctx, g.fence.Lease)
	if err != nil {
		return fmt.Errorf("check lease %q: %w", g.fence.Lease, err)
	}
	return g.fence.Admit(l.Token, ok)
}

// put stamps in's item and adds the fence condition.
func (g guard) put(in *ddb.PutItemInput) {
	if !g.on {
		return
	}
	in.Item = maps.Clone(in.Item)
	in.Item[attrFence] = num(g.fence.Token)
	in.Item[attrFenceLease] = sval(g.fence.Lease)
	in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues =
		g.cond(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
}

// del adds the fence condition to a delete.
func (g guard) del(in *ddb.DeleteItemInput) {
	if !g.on {
		return
	}
	in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues =
		g.cond(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
}

// cond is expr (if any) AND "the item carries no newer token of this lease".
func (g guard) cond(expr *string, names map[string]string, values map[string]types.AttributeValue) (*string, map[string]string, map[string]types.AttributeValue) {
	c := "(attribute_not_exists(#fence) OR #fenceLease <> :fenceLease OR #fence <= :fence)"
	if expr != nil && *expr != "" {
		c = "(" + *expr + ") AND " + c
	}
	names, values = maps.Clone(names), maps.Clone(values)
	if names == nil {
		names = map[string]string{}
	}
	if values == nil {
		values = map[string]types.AttributeValue{}
	}
	names["#fence"], names["#fenceLease"] = attrFence, attrFenceLease
	values[":fence"], values[":fenceLease"] = num(g.fence.Token), sval(g.fence.Lease)
	return aws.String(c), names, values
}

// failed explains a conditional write under g that failed: ErrFenced if the lease moved on (the
// read's error if it cannot be read), nil if it did not, so the caller's own reading stands.
func (g guard) failed(ctx context.Context) error {
	if !g.on {
		return nil
	}
	return g.check(ctx)
}
