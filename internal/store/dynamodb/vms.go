package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/adofleet/adofleet/internal/store"
)

// CreateVM inserts r with Version 1; ErrConflict if the instance id exists.
func (s *Store) CreateVM(ctx context.Context, r store.VMRecord) (err error) {
	defer s.m.observe("create_vm", time.Now(), &err)
	if r.InstanceID == "" {
		return errors.New("dynamodb: create VM record: empty instance id")
	}
	r.Version = 1
	if err := s.create(ctx, vmItem(r)); err != nil {
		return fmt.Errorf("dynamodb: create VM record %q: %w", r.InstanceID, err)
	}
	return nil
}

// GetVM returns the record for the instance, or ErrNotFound.
func (s *Store) GetVM(ctx context.Context, instanceID string) (r store.VMRecord, err error) {
	defer s.m.observe("get_vm", time.Now(), &err)
	r, err = getRecord(ctx, s, pkVM, instanceID, vmFrom)
	if err != nil {
		return store.VMRecord{}, fmt.Errorf("dynamodb: get VM record %q: %w", instanceID, err)
	}
	return r, nil
}

// UpdateVM writes r if r.Version is the stored version, and returns the record as stored.
func (s *Store) UpdateVM(ctx context.Context, r store.VMRecord) (out store.VMRecord, err error) {
	defer s.m.observe("update_vm", time.Now(), &err)
	next := r
	next.Version = r.Version + 1
	if err := replaceRecord(ctx, s, r.InstanceID, r.Version, next, vmItem); err != nil {
		return store.VMRecord{}, fmt.Errorf("dynamodb: update VM record %q: %w", r.InstanceID, err)
	}
	return normalizeVM(next), nil
}

// ListVMs returns the records matching f. A project (and environment) is read through the index;
// an environment alone, and states, are filters.
func (s *Store) ListVMs(ctx context.Context, f store.VMFilter) (out []store.VMRecord, err error) {
	defer s.m.observe("list_vms", time.Now(), &err)
	q := partition(pkVM)
	switch {
	case f.Project != "":
		prefix := group(f.Project)
		if f.Environment != "" {
			prefix += group(f.Environment)
		}
		inGroup(q, prefix)
	case f.Environment != "":
		filterEq(q, "environment", f.Environment)
	}
	if len(f.States) > 0 {
		filterIn(q, "state", f.States)
	}
	out, err = queryRecords(ctx, s, q, 0, vmFrom)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: list VM records %+v: %w", f, err)
	}
	return out, nil
}

// DeleteVM removes a record; an absent record is not an error.
func (s *Store) DeleteVM(ctx context.Context, instanceID string) (err error) {
	defer s.m.observe("delete_vm", time.Now(), &err)
	if instanceID == "" {
		return nil
	}
	if err := s.remove(ctx, pkVM, instanceID); err != nil {
		return fmt.Errorf("dynamodb: delete VM record %q: %w", instanceID, err)
	}
	return nil
}

// vmItem is r's item; a record with ExpiresAt set expires then.
func vmItem(r store.VMRecord) item {
	it := newItem(pkVM, r.InstanceID)
	it.s("lsk", group(r.Project)+group(r.Environment)+r.InstanceID)
	it.s("autoScalingGroup", r.AutoScalingGroup)
	it.s("project", r.Project)
	it.s("environment", r.Environment)
	it.n("environmentId", int64(r.EnvironmentID))
	it.s("resourceName", r.ResourceName)
	it.n("resourceId", int64(r.ResourceID))
	it.n("poolId", int64(r.PoolID))
	it.n("agentId", int64(r.AgentID))
	it.list("tags", r.Tags)
	it.s("state", string(r.State))
	it.s("reason", r.Reason)
	it.s("lifecycleHook", r.LifecycleHook)
	it.s("lifecycleToken", r.LifecycleToken)
	it.t("createdAt", r.CreatedAt)
	it.t("updatedAt", r.UpdatedAt)
	it.t("expiresAt", r.ExpiresAt)
	it["version"] = num(r.Version)
	if !r.ExpiresAt.IsZero() {
		it.n(attrTTL, expiry(r.ExpiresAt))
	}
	return it
}

func vmFrom(it map[string]types.AttributeValue) (store.VMRecord, error) {
	r := reader{it: it}
	out := store.VMRecord{
		InstanceID:       r.s("sk"),
		AutoScalingGroup: r.s("autoScalingGroup"),
		Project:          r.s("project"),
		Environment:      r.s("environment"),
		EnvironmentID:    int(r.n("environmentId")),
		ResourceName:     r.s("resourceName"),
		ResourceID:       int(r.n("resourceId")),
		PoolID:           int(r.n("poolId")),
		AgentID:          int(r.n("agentId")),
		Tags:             r.list("tags"),
		State:            store.VMState(r.s("state")),
		Reason:           r.s("reason"),
		LifecycleHook:    r.s("lifecycleHook"),
		LifecycleToken:   r.s("lifecycleToken"),
		CreatedAt:        r.t("createdAt"),
		UpdatedAt:        r.t("updatedAt"),
		ExpiresAt:        r.t("expiresAt"),
		Version:          r.n("version"),
	}
	return out, r.err
}

// normalizeVM is r as a read would return it.
func normalizeVM(r store.VMRecord) store.VMRecord {
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = micro(r.CreatedAt), micro(r.UpdatedAt), micro(r.ExpiresAt)
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	return r
}
