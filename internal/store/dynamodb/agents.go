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

// CreateAgent inserts r with Version 1; ErrConflict if the name is taken.
func (s *Store) CreateAgent(ctx context.Context, r store.AgentRecord) (err error) {
	defer s.m.observe("create_agent", time.Now(), &err)
	if r.Name == "" {
		return errors.New("dynamodb: create agent: empty name")
	}
	r.Version = 1
	if err := s.create(ctx, s.agentItem(r)); err != nil {
		return fmt.Errorf("dynamodb: create agent %q: %w", r.Name, err)
	}
	return nil
}

// GetAgent returns the record for name, or ErrNotFound.
func (s *Store) GetAgent(ctx context.Context, name string) (r store.AgentRecord, err error) {
	defer s.m.observe("get_agent", time.Now(), &err)
	it, err := s.getAgent(ctx, name)
	if err != nil {
		return store.AgentRecord{}, fmt.Errorf("dynamodb: get agent %q: %w", name, err)
	}
	return it, nil
}

func (s *Store) getAgent(ctx context.Context, name string) (store.AgentRecord, error) {
	if name == "" {
		return store.AgentRecord{}, store.ErrNotFound // an empty sort key is not a valid key
	}
	it, err := s.get(ctx, pkAgent, name)
	if err != nil {
		return store.AgentRecord{}, err
	}
	if it == nil {
		return store.AgentRecord{}, store.ErrNotFound
	}
	return agentFrom(it)
}

// UpdateAgent writes r if r.Version is the stored version, and returns the record as stored.
func (s *Store) UpdateAgent(ctx context.Context, r store.AgentRecord) (out store.AgentRecord, err error) {
	defer s.m.observe("update_agent", time.Now(), &err)
	if r.Name == "" {
		return store.AgentRecord{}, fmt.Errorf("dynamodb: update agent %q: %w", r.Name, store.ErrNotFound)
	}
	next := r
	next.Version = r.Version + 1
	if err := s.replace(ctx, s.agentItem(next), r.Version); err != nil {
		return store.AgentRecord{}, fmt.Errorf("dynamodb: update agent %q: %w", r.Name, err)
	}
	return normalizeAgent(next), nil
}

// ListAgents returns the pool's records ("" = every pool) in any of states (none = all). A pool
// is read through the index, so other pools' records are not read at all.
func (s *Store) ListAgents(ctx context.Context, pool string, states ...store.AgentState) (out []store.AgentRecord, err error) {
	defer s.m.observe("list_agents", time.Now(), &err)
	q := &ddb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sval(pkAgent)},
	}
	if pool != "" {
		q.IndexName = aws.String(indexByGroup)
		q.KeyConditionExpression = aws.String("pk = :pk AND begins_with(lsk, :g)")
		q.ExpressionAttributeValues[":g"] = sval(group(pool))
	}
	if len(states) > 0 {
		strs := make([]string, len(states))
		for i, st := range states {
			strs[i] = string(st)
		}
		filterIn(q, "state", strs)
	}
	items, err := s.query(ctx, q, 0)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: list agents of pool %q: %w", pool, err)
	}
	for _, it := range items {
		r, err := agentFrom(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: list agents of pool %q: %w", pool, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteAgent removes the record; an absent record is not an error.
func (s *Store) DeleteAgent(ctx context.Context, name string) (err error) {
	defer s.m.observe("delete_agent", time.Now(), &err)
	if name == "" {
		return nil
	}
	if err := s.remove(ctx, pkAgent, name); err != nil {
		return fmt.Errorf("dynamodb: delete agent %q: %w", name, err)
	}
	return nil
}

// filterIn adds "attr IN (values...)" to q's filter; attr goes through a name placeholder, since
// names like state are reserved words.
func filterIn(q *ddb.QueryInput, attr string, values []string) {
	if q.ExpressionAttributeNames == nil {
		q.ExpressionAttributeNames = map[string]string{}
	}
	ph := "#" + attr
	q.ExpressionAttributeNames[ph] = attr
	expr := ph + " IN ("
	for i, v := range values {
		name := fmt.Sprintf(":%s%d", attr, i)
		q.ExpressionAttributeValues[name] = sval(v)
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

func (s *Store) agentItem(r store.AgentRecord) item {
	it := newItem(pkAgent, r.Name)
	it.s("lsk", group(r.Pool)+r.Name)
	it.s("pool", r.Pool)
	it.s("launchToken", r.LaunchToken)
	it.s("template", r.Template)
	it.s("instanceId", r.InstanceID)
	it.n("agentId", int64(r.AgentID))
	it.s("state", string(r.State))
	it.s("reason", r.Reason)
	it.t("createdAt", r.CreatedAt)
	it.t("updatedAt", r.UpdatedAt)
	it.t("registeredAt", r.RegisteredAt)
	it.n("jobRequestId", r.JobRequestID)
	it["version"] = num(r.Version)
	if r.State.Terminal() {
		it.n(attrTTL, expiry(s.opts.Now().Add(s.opts.AgentRetention)))
	}
	return it
}

func agentFrom(it map[string]types.AttributeValue) (store.AgentRecord, error) {
	r := reader{it: it}
	out := store.AgentRecord{
		Name:         r.s("sk"),
		Pool:         r.s("pool"),
		LaunchToken:  r.s("launchToken"),
		Template:     r.s("template"),
		InstanceID:   r.s("instanceId"),
		AgentID:      int(r.n("agentId")),
		State:        store.AgentState(r.s("state")),
		Reason:       r.s("reason"),
		CreatedAt:    r.t("createdAt"),
		UpdatedAt:    r.t("updatedAt"),
		RegisteredAt: r.t("registeredAt"),
		JobRequestID: r.n("jobRequestId"),
		Version:      r.n("version"),
	}
	return out, r.err
}

// normalizeAgent is r as a read would return it: times in UTC at microsecond precision.
func normalizeAgent(r store.AgentRecord) store.AgentRecord {
	r.CreatedAt, r.UpdatedAt, r.RegisteredAt = micro(r.CreatedAt), micro(r.UpdatedAt), micro(r.RegisteredAt)
	return r
}

// micro is t as stored: UTC, microseconds, zero kept zero.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}
