package vmresource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/adofleet/adofleet/internal/store"
)

// maxConflicts bounds the re-read-and-retry loop of a conditional write that keeps losing.
const maxConflicts = 8

var errBusy = errors.New("the record kept changing concurrently")

// HandleMessage handles one SQS message body, in any of the shapes event.go lists. It returns nil
// when the message is handled or deliberately ignored (test notifications, other groups, other
// event types), an error wrapping ErrPoison when the body can never be handled, and any other
// error when a retry may succeed.
func (m *Manager) HandleMessage(ctx context.Context, body string) error {
	ev, ignore, err := parse(body)
	if err != nil {
		m.m.events.WithLabelValues("other", "poison").Inc()
		return err
	}
	if ignore != "" {
		typ := "other"
		if ignore == "test notification" {
			typ = "test"
		}
		m.m.events.WithLabelValues(typ, "ignored").Inc()
		m.log.Debug("lifecycle message ignored", "reason", ignore)
		return nil
	}
	log := m.log.With("instance", ev.InstanceID, "group", ev.Group, "event", string(ev.Kind), "shape", ev.Shape)
	t := m.byGroup[ev.Group]
	if t == nil {
		m.m.events.WithLabelValues(string(ev.Kind), "ignored").Inc()
		log.Debug("lifecycle event for a group no environment is configured for; ignored")
		return nil
	}
	if ev.Kind == kindLaunch {
		err = m.launch(ctx, t, ev, log)
	} else {
		err = m.terminate(ctx, t, ev, log)
	}
	if err != nil {
		m.m.events.WithLabelValues(string(ev.Kind), "error").Inc()
		return fmt.Errorf("%s of instance %s in group %s: %w", ev.Kind, ev.InstanceID, ev.Group, err)
	}
	m.m.events.WithLabelValues(string(ev.Kind), "handled").Inc()
	return nil
}

// launch records the instance and, when its VM resource is already there, the resource's ids.
// A launch seen after the termination does nothing.
func (m *Manager) launch(ctx context.Context, t *Target, ev event, log *slog.Logger) error {
	for range maxConflicts {
		rec, err := m.o.Store.GetVM(ctx, ev.InstanceID)
		if errors.Is(err, store.ErrNotFound) {
			rec, err = m.create(ctx, m.newRecord(t, ev.Group, ev.InstanceID, store.VMLaunching, "launch seen ("+ev.Shape+")"))
			if errors.Is(err, store.ErrConflict) {
				continue // a concurrent event created it: read it
			}
			if err != nil {
				return err
			}
			log.Info("instance launched; recorded", "dry_run", m.o.DryRun)
		} else if err != nil {
			return fmt.Errorf("read the record of %s: %w", ev.InstanceID, err)
		}
		switch {
		case rec.State == store.VMTerminating || rec.State == store.VMGone:
			log.Info("launch event after the instance's termination; nothing to do", "state", rec.State)
			return nil
		case rec.State == store.VMRegistered && rec.ResourceID != 0:
			return nil
		}
		_, err = m.resolve(ctx, rec, log)
		return err
	}
	return errBusy
}

// resolve looks the record's VM resource up by name and, when it is there, records its id, the
// deployment pool and the hidden agent (state registered). A resource not there yet is not an
// error: the instance registers itself when it boots; later events and Reconcile look again.
func (m *Manager) resolve(ctx context.Context, rec store.VMRecord, log *slog.Logger) (store.VMRecord, error) {
	env, err := m.envs.get(ctx, rec.Project, rec.Environment)
	if err != nil {
		return rec, err
	}
	found, err := m.o.ADO.FindVMResources(ctx, rec.Project, env.ID, rec.ResourceName)
	if err != nil {
		m.forgetIfGone(rec, err)
		return rec, fmt.Errorf("look up VM resource %q: %w", rec.ResourceName, err)
	}
	if len(found) == 0 {
		log.Debug("VM resource not registered yet")
		return rec, nil
	}
	res := found[0]
	for range maxConflicts {
		if rec.State != store.VMLaunching && rec.State != store.VMRegistered {
			return rec, nil // terminated meanwhile: the termination owns the record now
		}
		rec.State, rec.Reason = store.VMRegistered, "VM resource registered"
		rec.EnvironmentID, rec.PoolID, rec.ResourceID = env.ID, env.PoolID, res.ID
		if res.Agent != nil {
			rec.AgentID = res.Agent.ID
		}
		out, err := m.update(ctx, rec)
		if err == nil {
			log.Info("VM resource registered", "resource_id", res.ID, "agent_id", rec.AgentID, "dry_run", m.o.DryRun)
			return out, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return rec, err
		}
		if rec, err = m.o.Store.GetVM(ctx, rec.InstanceID); err != nil {
			return rec, fmt.Errorf("re-read the record of %s: %w", rec.InstanceID, err)
		}
	}
	return rec, errBusy
}

// terminate moves the record to terminating (creating it when the launch was never seen) and
// removes the resource and its hidden agent, then completes the lifecycle action.
func (m *Manager) terminate(ctx context.Context, t *Target, ev event, log *slog.Logger) error {
	for range maxConflicts {
		cur, err := m.o.Store.GetVM(ctx, ev.InstanceID)
		var rec store.VMRecord
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Recorded so that a late launch event finds the instance terminated and does nothing.
			r := m.newRecord(t, ev.Group, ev.InstanceID, store.VMTerminating, "termination seen before any launch ("+ev.Shape+")")
			r.LifecycleHook, r.LifecycleToken = ev.Hook, ev.Token
			rec, err = m.create(ctx, r)
		case err != nil:
			return fmt.Errorf("read the record of %s: %w", ev.InstanceID, err)
		case cur.State == store.VMGone:
			// Done before (a duplicate, or Reconcile got there first); a hook may still hold the
			// instance, and completing an action twice is harmless.
			if ev.Hook != "" {
				return m.completeLifecycle(ctx, ev.Group, ev.Hook, ev.Token, ev.InstanceID, log)
			}
			return nil
		case cur.State == store.VMTerminating && (ev.Hook == "" || (cur.LifecycleHook == ev.Hook && cur.LifecycleToken == ev.Token)):
			rec = cur // a retry, or a duplicate racing the first: carry on, every step is idempotent
		default:
			cur.State, cur.Reason = store.VMTerminating, "termination seen ("+ev.Shape+")"
			if ev.Hook != "" {
				cur.LifecycleHook, cur.LifecycleToken = ev.Hook, ev.Token
			}
			rec, err = m.update(ctx, cur)
		}
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		_, err = m.deregister(ctx, rec, log)
		return err
	}
	return errBusy
}

func (m *Manager) newRecord(t *Target, group, id string, st store.VMState, reason string) store.VMRecord {
	now := m.now()
	return store.VMRecord{
		InstanceID: id, AutoScalingGroup: group, Project: t.Project, Environment: t.Environment,
		ResourceName: id, Tags: slices.Clone(t.Tags), State: st, Reason: reason, CreatedAt: now, UpdatedAt: now,
	}
}

// create inserts r (ErrConflict when it exists); a dry run writes nothing.
func (m *Manager) create(ctx context.Context, r store.VMRecord) (store.VMRecord, error) {
	r.Version = 1
	if m.o.DryRun {
		return r, nil
	}
	if err := m.o.Store.CreateVM(ctx, r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return r, err
		}
		return r, fmt.Errorf("create the record of %s: %w", r.InstanceID, err)
	}
	return r, nil
}

// update writes r if its version is still the stored one; a dry run writes nothing.
func (m *Manager) update(ctx context.Context, r store.VMRecord) (store.VMRecord, error) {
	r.UpdatedAt = m.now()
	if r.State.Terminal() && r.ExpiresAt.IsZero() {
		r.ExpiresAt = r.UpdatedAt.Add(m.o.RecordTTL)
	}
	if m.o.DryRun {
		return r, nil
	}
	out, err := m.o.Store.UpdateVM(ctx, r)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return r, fmt.Errorf("update the record of %s: %w", r.InstanceID, err)
	}
	return out, err
}
