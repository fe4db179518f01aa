package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	r, err = getRecord(ctx, s, pkAgent, name, agentFrom)
	if err != nil {
		return store.AgentRecord{}, fmt.Errorf("dynamodb: get agent %q: %w", name, err)
	}
	return r, nil
}

// UpdateAgent writes r if r.Version is the stored version, and returns the record as stored.
func (s *Store) UpdateAgent(ctx context.Context, r store.AgentRecord) (out store.AgentRecord, err error) {
	defer s.m.observe("update_agent", time.Now(), &err)
	next := r
	next.Version = r.Version + 1
	if err := replaceRecord(ctx, s, r.Name, r.Version, next, s.agentItem); err != nil {
		return store.AgentRecord{}, fmt.Errorf("dynamodb: update agent %q: %w", r.Name, err)
	}
	return normalizeAgent(next), nil
}

// ListAgents returns the pool's records ("" = every pool) in any of states (none = all). A pool
// is read through the index, so other pools' records are not read at all.
func (s *Store) ListAgents(ctx context.Context, pool string, states ...store.AgentState) (out []store.AgentRecord, err error) {
	defer s.m.observe("list_agents", time.Now(), &err)
	q := partition(pkAgent)
	if pool != "" {
		inGroup(q, group(pool))
	}
	if len(states) > 0 {
		filterIn(q, "state", states)
	}
	out, err = queryRecords(ctx, s, q, 0, agentFrom)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: list agents of pool %q: %w", pool, err)
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
