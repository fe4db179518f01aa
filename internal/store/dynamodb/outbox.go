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

// duePrefix starts the index key of a pending message; finished messages have none, so the
// index holds only what may become due.
const duePrefix = "due:"

// EnqueueMessage stores m as pending unless the same alert was enqueued at or after dedupSince.
// The dedup marker is written first, conditionally (see the package comment), then the message.
func (s *Store) EnqueueMessage(ctx context.Context, m store.OutboxMessage, dedupSince time.Time) (stored bool, err error) {
	defer s.m.observe("enqueue_message", time.Now(), &err)
	switch {
	case m.ID == "":
		return false, errors.New("dynamodb: enqueue message: empty ID")
	case m.Route == "":
		return false, fmt.Errorf("dynamodb: enqueue message %q: empty route", m.ID)
	}
	m.State, m.Version = store.OutboxPending, 1
	var undo func()
	if m.DedupKey != "" {
		fresh, restore, err := s.markDedup(ctx, m, dedupSince)
		if err != nil {
			return false, fmt.Errorf("dynamodb: enqueue message %q to %q: dedup marker: %w", m.ID, m.Route, err)
		}
		if !fresh {
			return false, nil
		}
		undo = restore
	}
	if err := s.create(ctx, outboxItem(m)); err != nil {
		if undo != nil {
			undo()
		}
		return false, fmt.Errorf("dynamodb: enqueue message %q to %q: %w", m.ID, m.Route, err)
	}
	return true, nil
}

// markDedup records that m's alert is enqueued now, unless the marker says one was enqueued at
// or after since. On success it returns a function that puts the marker back as it was, for when
// the message itself cannot be written.
func (s *Store) markDedup(ctx context.Context, m store.OutboxMessage, since time.Time) (fresh bool, undo func(), err error) {
	pk := hashKey("dedup#", m.Route, m.DedupKey)
	it := newItem(pk, skSingle)
	it.s("route", m.Route)
	it.s("dedupKey", m.DedupKey)
	it.s("message", m.ID)
	it["at"] = num(m.CreatedAt.UnixMicro()) // the zero time too: a zero since still matches it
	it.n(attrTTL, expiry(s.opts.Now().Add(s.opts.DedupRetention)))
	g, err := s.guard(ctx)
	if err != nil {
		return false, nil, err
	}
	in := &ddb.PutItemInput{
		TableName: s.table, Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #at < :since"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":since": num(since.UnixMicro())},
		ReturnValues:              types.ReturnValueAllOld,
	}
	g.put(in)
	var out *ddb.PutItemOutput
	err = s.call(ctx, func(ctx context.Context) (err error) {
		out, err = s.opts.Client.PutItem(ctx, in)
		return err
	})
	switch {
	case conditionFailed(err):
		return false, nil, g.failed(ctx)
	case err != nil:
		return false, nil, err
	}
	old := out.Attributes
	return true, func() { s.restoreDedup(pk, m.ID, old) }, nil
}

// restoreDedup puts back the marker markDedup replaced (or deletes the one it created), if it
// still names msgID. It runs even when the caller's context is done: a marker left behind would
// suppress the alert for the whole window.
func (s *Store) restoreDedup(pk, msgID string, old map[string]types.AttributeValue) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CallTimeout)
	defer cancel()
	cond := aws.String("#msg = :id")
	names := map[string]string{"#msg": "message"}
	values := map[string]types.AttributeValue{":id": sval(msgID)}
	var err error
	if len(old) == 0 {
		_, err = s.opts.Client.DeleteItem(ctx, &ddb.DeleteItemInput{
			TableName: s.table, Key: key(pk, skSingle),
			ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
	} else {
		_, err = s.opts.Client.PutItem(ctx, &ddb.PutItemInput{
			TableName: s.table, Item: old,
			ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
	}
	if err != nil && !conditionFailed(err) {
		s.log.Warn("restore outbox dedup marker after a failed enqueue; the alert may be suppressed until its window passes",
			"message", msgID, "err", err)
	}
}

// DueMessages returns pending messages due at now, earliest NextAttempt first, at most limit.
// It reads the index range of due keys, so neither finished nor future messages are read.
func (s *Store) DueMessages(ctx context.Context, now time.Time, limit int) (out []store.OutboxMessage, err error) {
	defer s.m.observe("due_messages", time.Now(), &err)
	q := &ddb.QueryInput{
		IndexName:              aws.String(indexByGroup),
		KeyConditionExpression: aws.String("pk = :pk AND lsk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": sval(pkOutbox),
			":lo": sval(duePrefix),
			// '$' sorts after the '#' that follows the time: every message due at now is in.
			":hi": sval(duePrefix + timeKey(now) + "$"),
		},
	}
	items, err := s.query(ctx, q, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("dynamodb: due messages at %s: %w", now.UTC().Format(time.RFC3339Nano), err)
	}
	out, err = mapItems(items, messageFrom)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: due messages: %w", err)
	}
	return out, nil
}

// GetMessage returns the message with that ID, or ErrNotFound.
func (s *Store) GetMessage(ctx context.Context, id string) (m store.OutboxMessage, err error) {
	defer s.m.observe("get_message", time.Now(), &err)
	m, err = getRecord(ctx, s, pkOutbox, id, messageFrom)
	if err != nil {
		return store.OutboxMessage{}, fmt.Errorf("dynamodb: get message %q: %w", id, err)
	}
	return m, nil
}

// UpdateMessage writes m if m.Version is the stored version, and returns it as stored.
func (s *Store) UpdateMessage(ctx context.Context, m store.OutboxMessage) (out store.OutboxMessage, err error) {
	defer s.m.observe("update_message", time.Now(), &err)
	next := m
	next.Version = m.Version + 1
	if err := replaceRecord(ctx, s, m.ID, m.Version, next, outboxItem); err != nil {
		return store.OutboxMessage{}, fmt.Errorf("dynamodb: update message %q: %w", m.ID, err)
	}
	return normalizeMessage(next), nil
}

// CountMessages returns how many messages are in each state. It reads every message's state
// (finished ones until they expire): meant for the dashboard, not for a hot path.
func (s *Store) CountMessages(ctx context.Context) (counts map[store.OutboxState]int, err error) {
	defer s.m.observe("count_messages", time.Now(), &err)
	q := partition(pkOutbox)
	q.ProjectionExpression = aws.String("#state")
	q.ExpressionAttributeNames = map[string]string{"#state": "state"}
	items, err := s.query(ctx, q, 0)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: count messages: %w", err)
	}
	counts = map[store.OutboxState]int{}
	for _, it := range items {
		counts[store.OutboxState(str(it["state"]))]++
	}
	return counts, nil
}

// outboxItem is m's item. A pending message has an index key ordering it by NextAttempt; a
// finished one with ExpiresAt set expires then.
func outboxItem(m store.OutboxMessage) item {
	it := newItem(pkOutbox, m.ID)
	if m.State == store.OutboxPending {
		it.s("lsk", duePrefix+timeKey(m.NextAttempt)+"#"+m.ID)
	} else if !m.ExpiresAt.IsZero() {
		it.n(attrTTL, expiry(m.ExpiresAt))
	}
	it.s("route", m.Route)
	it.s("dedupKey", m.DedupKey)
	it.b("payload", m.Payload)
	it.s("state", string(m.State))
	it.n("attempts", int64(m.Attempts))
	it.t("nextAttempt", m.NextAttempt)
	it.s("lastError", m.LastError)
	it.t("createdAt", m.CreatedAt)
	it.t("updatedAt", m.UpdatedAt)
	it.t("deliveredAt", m.DeliveredAt)
	it.t("expiresAt", m.ExpiresAt)
	it["version"] = num(m.Version)
	return it
}

func messageFrom(it map[string]types.AttributeValue) (store.OutboxMessage, error) {
	r := reader{it: it}
	m := store.OutboxMessage{
		ID:          r.s("sk"),
		Route:       r.s("route"),
		DedupKey:    r.s("dedupKey"),
		Payload:     r.b("payload"),
		State:       store.OutboxState(r.s("state")),
		Attempts:    int(r.n("attempts")),
		NextAttempt: r.t("nextAttempt"),
		LastError:   r.s("lastError"),
		CreatedAt:   r.t("createdAt"),
		UpdatedAt:   r.t("updatedAt"),
		DeliveredAt: r.t("deliveredAt"),
		ExpiresAt:   r.t("expiresAt"),
		Version:     r.n("version"),
	}
	return m, r.err
}

// normalizeMessage is m as a read would return it.
func normalizeMessage(m store.OutboxMessage) store.OutboxMessage {
	m.NextAttempt, m.CreatedAt, m.UpdatedAt = micro(m.NextAttempt), micro(m.CreatedAt), micro(m.UpdatedAt)
	m.DeliveredAt, m.ExpiresAt = micro(m.DeliveredAt), micro(m.ExpiresAt)
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	return m
}
