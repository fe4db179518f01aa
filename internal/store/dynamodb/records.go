package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/adofleet/adofleet/internal/store"
)

// The mechanics the record kinds share: a read by key, a versioned write and a query of a
// partition or of a group in it. Each kind's file keeps only its own attribute mapping.

// fromItem maps a stored item to a record of one kind; the error names a malformed attribute.
type fromItem[R any] func(map[string]types.AttributeValue) (R, error)

// getRecord reads the record stored under (pk, sk) and maps it with from; ErrNotFound if there
// is none. An empty sort key is not a valid key, so it is not found without a call.
func getRecord[R any](ctx context.Context, s *Store, pk, sk string, from fromItem[R]) (R, error) {
	var zero R
	if sk == "" {
		return zero, store.ErrNotFound
	}
	it, err := s.get(ctx, pk, sk)
	if err != nil {
		return zero, err
	}
	if it == nil {
		return zero, store.ErrNotFound
	}
	return from(it)
}

// replaceRecord writes next, whose Version the caller has set to version+1, if the record stored
// under sk has version; ErrNotFound for an empty sort key (itemOf is not called then), else as
// replace.
func replaceRecord[R any](ctx context.Context, s *Store, sk string, version int64, next R, itemOf func(R) item) error {
	if sk == "" {
		return store.ErrNotFound
	}
	return s.replace(ctx, itemOf(next), version)
}

// queryRecords runs q (see query) and maps its items with from.
func queryRecords[R any](ctx context.Context, s *Store, q *ddb.QueryInput, limit int, from fromItem[R]) ([]R, error) {
	items, err := s.query(ctx, q, limit)
	if err != nil {
		return nil, err
	}
	return mapItems(items, from)
}

// mapItems maps items with from, in order; nil if there are none, an error at the first
// malformed one.
func mapItems[R any](items []map[string]types.AttributeValue, from fromItem[R]) ([]R, error) {
	var out []R
	for _, it := range items {
		r, err := from(it)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// partition is a query of every item in partition pk, in sort key order.
func partition(pk string) *ddb.QueryInput {
	return &ddb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sval(pk)},
	}
}

// inGroup narrows a partition query to the items whose index key starts with prefix, read
// through the by-group index, so the partition's other items are not read at all.
func inGroup(q *ddb.QueryInput, prefix string) {
	q.IndexName = aws.String(indexByGroup)
	q.KeyConditionExpression = aws.String("pk = :pk AND begins_with(lsk, :g)")
	q.ExpressionAttributeValues[":g"] = sval(prefix)
}

// filterIn adds "attr IN (values...)" to q's filter; attr goes through a name placeholder, since
// names like state are reserved words.
func filterIn[V ~string](q *ddb.QueryInput, attr string, values []V) {
	if q.ExpressionAttributeNames == nil {
		q.ExpressionAttributeNames = map[string]string{}
	}
	ph := "#" + attr
	q.ExpressionAttributeNames[ph] = attr
	expr := ph + " IN ("
	for i, v := range values {
		name := fmt.Sprintf(":%s%d", attr, i)
		q.ExpressionAttributeValues[name] = sval(string(v))
		if i > 0 {
			expr += ", "
		}
		expr += name
	}
	and(q, expr+")")
}

// filterEq adds "attr = value" to q's filter.
func filterEq(q *ddb.QueryInput, attr, value string) {
	if q.ExpressionAttributeNames == nil {
		q.ExpressionAttributeNames = map[string]string{}
	}
	q.ExpressionAttributeNames["#"+attr] = attr
	q.ExpressionAttributeValues[":"+attr] = sval(value)
	and(q, "#"+attr+" = :"+attr)
}

func and(q *ddb.QueryInput, cond string) {
	if q.FilterExpression != nil {
		cond = *q.FilterExpression + " AND " + cond
	}
	q.FilterExpression = aws.String(cond)
}
