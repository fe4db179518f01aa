package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/adofleet/adofleet/internal/store"
)

const vmColumns = `instance_id, auto_scaling_group, project, environment, environment_id,
	resource_name, resource_id, pool_id, agent_id, tags, state, reason, lifecycle_hook,
	lifecycle_token, created_at, updated_at, expires_at, version`

// CreateVM inserts r with Version 1; ErrConflict if the instance id is taken.
func (s *Store) CreateVM(ctx context.Context, r store.VMRecord) (err error) {
	defer s.m.observe("create_vm", time.Now(), &err)
	if r.InstanceID == "" {
		return errors.New("postgres: create VM record: empty instance id")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.exec(ctx, s.q(`INSERT INTO {s}.vm_records (`+vmColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1)
		ON CONFLICT (instance_id) DO NOTHING`),
		r.InstanceID, r.AutoScalingGroup, r.Project, r.Environment, r.EnvironmentID,
		r.ResourceName, r.ResourceID, r.PoolID, r.AgentID, tagsToDB(r.Tags), string(r.State), r.Reason,
		r.LifecycleHook, r.LifecycleToken, toDB(r.CreatedAt), toDB(r.UpdatedAt), toDB(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("postgres: create VM record %q: %w", r.InstanceID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: create VM record %q: %w", r.InstanceID, store.ErrConflict)
	}
	return nil
}

// GetVM returns the record for the instance, or ErrNotFound.
func (s *Store) GetVM(ctx context.Context, instanceID string) (r store.VMRecord, err error) {
	defer s.m.observe("get_vm", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	r, err = scanVM(s.pool.QueryRow(ctx, s.q(`SELECT `+vmColumns+` FROM {s}.vm_records WHERE instance_id = $1`), instanceID))
	if err != nil {
		return store.VMRecord{}, fmt.Errorf("postgres: get VM record %q: %w", instanceID, notFound(err))
	}
	return r, nil
}

// UpdateVM writes r if r.Version is the stored version, and returns the record as stored.
func (s *Store) UpdateVM(ctx context.Context, r store.VMRecord) (out store.VMRecord, err error) {
	defer s.m.observe("update_vm", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	out, err = updateRow(ctx, s, scanVM, `UPDATE {s}.vm_records SET
		auto_scaling_group = $3, project = $4, environment = $5, environment_id = $6,
		resource_name = $7, resource_id = $8, pool_id = $9, agent_id = $10, tags = $11, state = $12,
		reason = $13, lifecycle_hook = $14, lifecycle_token = $15, created_at = $16, updated_at = $17,
		expires_at = $18, version = version + 1
		WHERE instance_id = $1 AND version = $2
		RETURNING `+vmColumns,
		`SELECT version FROM {s}.vm_records WHERE instance_id = $1`, r.InstanceID, r.Version,
		r.AutoScalingGroup, r.Project, r.Environment, r.EnvironmentID,
		r.ResourceName, r.ResourceID, r.PoolID, r.AgentID, tagsToDB(r.Tags), string(r.State),
		r.Reason, r.LifecycleHook, r.LifecycleToken, toDB(r.CreatedAt), toDB(r.UpdatedAt),
		toDB(r.ExpiresAt))
	if err != nil {
		return store.VMRecord{}, fmt.Errorf("postgres: update VM record %q: %w", r.InstanceID, err)
	}
	return out, nil
}

// ListVMs returns the records matching f, by instance id.
func (s *Store) ListVMs(ctx context.Context, f store.VMFilter) (out []store.VMRecord, err error) {
	defer s.m.observe("list_vms", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var (
		where []string
		args  []any
	)
	if f.Project != "" {
		args = append(args, f.Project)
		where = append(where, fmt.Sprintf("project = $%d", len(args)))
	}
	if f.Environment != "" {
		args = append(args, f.Environment)
		where = append(where, fmt.Sprintf("environment = $%d", len(args)))
	}
	if len(f.States) > 0 {
		names := make([]string, len(f.States))
		for i, st := range f.States {
			names[i] = string(st)
		}
		args = append(args, names)
		where = append(where, fmt.Sprintf("state = ANY($%d)", len(args)))
	}
	q := `SELECT ` + vmColumns + ` FROM {s}.vm_records`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.pool.Query(ctx, s.q(q+` ORDER BY instance_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list VM records of %s/%s: %w", f.Project, f.Environment, err)
	}
	out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.VMRecord, error) { return scanVM(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list VM records of %s/%s: %w", f.Project, f.Environment, err)
	}
	return out, nil
}

// DeleteVM removes the record; an absent record is not an error.
func (s *Store) DeleteVM(ctx context.Context, instanceID string) (err error) {
	defer s.m.observe("delete_vm", time.Now(), &err)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.exec(ctx, s.q(`DELETE FROM {s}.vm_records WHERE instance_id = $1`), instanceID); err != nil {
		return fmt.Errorf("postgres: delete VM record %q: %w", instanceID, err)
	}
	return nil
}

func scanVM(row pgx.Row) (store.VMRecord, error) {
	var (
		r                         store.VMRecord
		state                     string
		tags                      []string
		created, updated, expires pgtype.Timestamptz
	)
	err := row.Scan(&r.InstanceID, &r.AutoScalingGroup, &r.Project, &r.Environment, &r.EnvironmentID,
		&r.ResourceName, &r.ResourceID, &r.PoolID, &r.AgentID, &tags, &state, &r.Reason, &r.LifecycleHook,
		&r.LifecycleToken, &created, &updated, &expires, &r.Version)
	if err != nil {
		return store.VMRecord{}, err
	}
	if len(tags) > 0 {
		r.Tags = tags
	}
	r.State = store.VMState(state)
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = fromDB(created), fromDB(updated), fromDB(expires)
	return r, nil
}

// tagsToDB stores nil and empty tags alike as NULL: the contract returns both as nil.
func tagsToDB(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	return tags
}
