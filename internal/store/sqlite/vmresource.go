package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

const vmColumns = `instance_id, auto_scaling_group, project, environment, environment_id,
	resource_name, resource_id, pool_id, agent_id, tags, state, reason, lifecycle_hook,
	lifecycle_token, created_at, updated_at, expires_at, version`

// CreateVM inserts r with Version 1; ErrConflict if the instance id is taken.
func (s *Store) CreateVM(ctx context.Context, r store.VMRecord) (err error) {
	defer s.m.observe("create_vm", time.Now(), &err)
	if r.InstanceID == "" {
		return errors.New("sqlite: create VM record: empty instance id")
	}
	tags, err := tagsToDB(r.Tags)
	if err != nil {
		return fmt.Errorf("sqlite: create VM record %q: %w", r.InstanceID, err)
	}
	res, err := s.exec(ctx, `INSERT INTO vm_resources (`+vmColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (instance_id) DO NOTHING`,
		r.InstanceID, r.AutoScalingGroup, r.Project, r.Environment, r.EnvironmentID,
		r.ResourceName, r.ResourceID, r.PoolID, r.AgentID, tags, string(r.State), r.Reason,
		r.LifecycleHook, r.LifecycleToken, toDB(r.CreatedAt), toDB(r.UpdatedAt), toDB(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: create VM record %q: %w", r.InstanceID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create VM record %q: %w", r.InstanceID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: create VM record %q: %w", r.InstanceID, store.ErrConflict)
	}
	return nil
}

// GetVM returns the record for the instance, or ErrNotFound.
func (s *Store) GetVM(ctx context.Context, instanceID string) (r store.VMRecord, err error) {
	defer s.m.observe("get_vm", time.Now(), &err)
	row := s.r.QueryRowContext(ctx, `SELECT `+vmColumns+` FROM vm_resources WHERE instance_id = ?`, instanceID)
	r, err = scanVM(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.VMRecord{}, fmt.Errorf("sqlite: get VM record %q: %w", instanceID, err)
	}
	return r, nil
}

// UpdateVM writes r if r.Version is the stored version, and returns the record as stored.
func (s *Store) UpdateVM(ctx context.Context, r store.VMRecord) (out store.VMRecord, err error) {
	defer s.m.observe("update_vm", time.Now(), &err)
	tags, err := tagsToDB(r.Tags)
	if err != nil {
		return store.VMRecord{}, fmt.Errorf("sqlite: update VM record %q: %w", r.InstanceID, err)
	}
	out, err = updateRow(ctx, s, scanVM, `UPDATE vm_resources SET
		auto_scaling_group = ?, project = ?, environment = ?, environment_id = ?, resource_name = ?,
		resource_id = ?, pool_id = ?, agent_id = ?, tags = ?, state = ?, reason = ?,
		lifecycle_hook = ?, lifecycle_token = ?, created_at = ?, updated_at = ?, expires_at = ?,
		version = version + 1
		WHERE instance_id = ? AND version = ?
		RETURNING `+vmColumns,
		`SELECT version FROM vm_resources WHERE instance_id = ?`, r.InstanceID, r.Version,
		r.AutoScalingGroup, r.Project, r.Environment, r.EnvironmentID, r.ResourceName,
		r.ResourceID, r.PoolID, r.AgentID, tags, string(r.State), r.Reason,
		r.LifecycleHook, r.LifecycleToken, toDB(r.CreatedAt), toDB(r.UpdatedAt), toDB(r.ExpiresAt))
	if err != nil {
		return store.VMRecord{}, fmt.Errorf("sqlite: update VM record %q: %w", r.InstanceID, err)
	}
	return out, nil
}

// ListVMs returns the records matching f, by instance id.
func (s *Store) ListVMs(ctx context.Context, f store.VMFilter) (out []store.VMRecord, err error) {
	defer s.m.observe("list_vms", time.Now(), &err)
	var (
		where []string
		args  []any
	)
	if f.Project != "" {
		where, args = append(where, "project = ?"), append(args, f.Project)
	}
	if f.Environment != "" {
		where, args = append(where, "environment = ?"), append(args, f.Environment)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	q := `SELECT ` + vmColumns + ` FROM vm_resources`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY instance_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list VM records of project %q environment %q: %w", f.Project, f.Environment, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanVM(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list VM records of project %q environment %q: %w", f.Project, f.Environment, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list VM records of project %q environment %q: %w", f.Project, f.Environment, err)
	}
	return out, nil
}

// DeleteVM removes the record; an absent record is not an error.
func (s *Store) DeleteVM(ctx context.Context, instanceID string) (err error) {
	defer s.m.observe("delete_vm", time.Now(), &err)
	if _, err := s.exec(ctx, `DELETE FROM vm_resources WHERE instance_id = ?`, instanceID); err != nil {
		return fmt.Errorf("sqlite: delete VM record %q: %w", instanceID, err)
	}
	return nil
}

// PruneVMs deletes gone records whose ExpiresAt is set and before now, and returns how many:
// the other stores' TTL, done by the caller's housekeeping here.
func (s *Store) PruneVMs(ctx context.Context, now time.Time) (n int, err error) {
	defer s.m.observe("prune_vms", time.Now(), &err)
	res, err := s.exec(ctx, `DELETE FROM vm_resources
		WHERE state = ? AND expires_at IS NOT NULL AND expires_at < ?`, string(store.VMGone), now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune VM records expired before %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	affected, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune VM records: %w", err)
	}
	return int(affected), nil
}

func scanVM(sc scanner) (store.VMRecord, error) {
	var (
		r                         store.VMRecord
		state                     string
		tags                      sql.NullString
		created, updated, expires sql.NullInt64
	)
	err := sc.Scan(&r.InstanceID, &r.AutoScalingGroup, &r.Project, &r.Environment, &r.EnvironmentID,
		&r.ResourceName, &r.ResourceID, &r.PoolID, &r.AgentID, &tags, &state, &r.Reason,
		&r.LifecycleHook, &r.LifecycleToken, &created, &updated, &expires, &r.Version)
	if err != nil {
		return store.VMRecord{}, err
	}
	if r.Tags, err = tagsFromDB(tags); err != nil {
		return store.VMRecord{}, fmt.Errorf("VM record %q: %w", r.InstanceID, err)
	}
	r.State = store.VMState(state)
	r.CreatedAt, r.UpdatedAt, r.ExpiresAt = fromDB(created), fromDB(updated), fromDB(expires)
	return r, nil
}

// tagsToDB stores tags as a JSON array, which keeps their order and any character; no tags is
// NULL, so nil and empty read back alike.
func tagsToDB(tags []string) (any, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return nil, fmt.Errorf("encode tags: %w", err)
	}
	return string(b), nil
}

func tagsFromDB(v sql.NullString) ([]string, error) {
	if !v.Valid {
		return nil, nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(v.String), &tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}
