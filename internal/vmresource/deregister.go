package vmresource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/store"
)

// deregister removes the record's VM resource, then its hidden agent from the deployment pool,
// then completes the pending lifecycle action, then marks the record gone. Something already gone
// is success. Only a resource named after the instance *and*, once recorded, with the recorded
// id is deleted, and never the agent of a resource that is kept, so a replacement registered
// under the same name survives. It returns what was (or, in a dry run, would be) removed.
func (m *Manager) deregister(ctx context.Context, rec store.VMRecord, log *slog.Logger) (Removal, error) {
	rm, err := m.removeFromADO(ctx, rec, log)
	if err != nil {
		m.m.deregistrations.WithLabelValues("failed").Inc()
		m.publish(ctx, notify.Event{
			Type: notify.VMResourceDeregisterFailed, Severity: notify.SeverityError,
			Summary: fmt.Sprintf("removing VM resource %s from environment %s failed: %v", rec.ResourceName, rec.Environment, err),
			Fields: map[string]string{"instance": rec.InstanceID, "environment": rec.Environment, "project": rec.Project,
				"reason": err.Error()},
			DedupKey: "vmresource.deregister_failed/" + rec.InstanceID,
		})
		return rm, err
	}
	removed := rm.ResourceID != 0 || rm.AgentID != 0
	switch {
	case m.o.DryRun:
		m.m.deregistrations.WithLabelValues("dry_run").Inc()
		log.Info("dry run: would remove the VM resource and its hidden agent", "resource_id", rm.ResourceID, "agent_id", rm.AgentID,
			"lifecycle_hook", rec.LifecycleHook)
		return rm, nil
	case removed:
		m.m.deregistrations.WithLabelValues("removed").Inc()
	default:
		m.m.deregistrations.WithLabelValues("already_gone").Inc()
	}
	if rec.LifecycleHook != "" {
		if err := m.completeLifecycle(ctx, rec.AutoScalingGroup, rec.LifecycleHook, rec.LifecycleToken, rec.InstanceID, log); err != nil {
			return rm, err
		}
	}
	if err := m.markGone(ctx, rec, log); err != nil {
		return rm, err
	}
	log.Info("instance deregistered from its environment", "resource_id", rm.ResourceID, "agent_id", rm.AgentID, "removed", removed)
	if removed {
		m.publish(ctx, notify.Event{
			Type: notify.VMResourceDeregistered, Severity: notify.SeverityInfo,
			Summary: fmt.Sprintf("VM resource %s removed from environment %s", rec.ResourceName, rec.Environment),
			Fields: map[string]string{"instance": rec.InstanceID, "environment": rec.Environment, "project": rec.Project,
				"resourceId": strconv.Itoa(rm.ResourceID)},
		})
	}
	return rm, nil
}

// removeFromADO deletes the resource(s) and hidden agent(s) of rec (nothing in a dry run) and
// reports their ids.
func (m *Manager) removeFromADO(ctx context.Context, rec store.VMRecord, log *slog.Logger) (Removal, error) {
	rm := Removal{Project: rec.Project, Environment: rec.Environment, InstanceID: rec.InstanceID, Reason: rec.Reason}
	env, err := m.envs.get(ctx, rec.Project, rec.Environment)
	if err != nil {
		return rm, err
	}
	found, err := m.o.ADO.FindVMResources(ctx, rec.Project, env.ID, rec.ResourceName)
	if err != nil {
		m.forgetIfGone(rec, err)
		return rm, fmt.Errorf("look up VM resource %q: %w", rec.ResourceName, err)
	}
	var doomed []int
	agents := map[int]bool{}
	kept := map[int]bool{} // agents of resources that are not ours to delete
	if rec.AgentID != 0 {
		agents[rec.AgentID] = true
	}
	for _, r := range found {
		if rec.ResourceID != 0 && r.ID != rec.ResourceID {
			log.Warn("a VM resource of the same name with another id is kept: not the one this instance registered",
				"resource_id", r.ID, "recorded_resource_id", rec.ResourceID)
			if r.Agent != nil {
				kept[r.Agent.ID] = true
			}
			continue
		}
		doomed = append(doomed, r.ID)
		if r.Agent != nil && r.Agent.ID != 0 {
			agents[r.Agent.ID] = true
		}
	}
	if len(agents) == 0 {
		// The resource is gone (or its agent was never seen): find the hidden agent by name.
		byName, err := m.o.ADO.FindAgents(ctx, env.PoolID, rec.ResourceName)
		if err != nil {
			return rm, fmt.Errorf("look up the hidden agent %q in deployment pool %d: %w", rec.ResourceName, env.PoolID, err)
		}
		for _, a := range byName {
			agents[a.ID] = true
		}
	}
	for id := range kept {
		delete(agents, id)
	}
	if len(doomed) > 0 {
		rm.ResourceID = doomed[0]
	}
	if ids := slices.Sorted(maps.Keys(agents)); len(ids) > 0 {
		rm.AgentID = ids[0]
	}
	if m.o.DryRun {
		return rm, nil
	}
	for _, id := range doomed {
		if err := m.o.ADO.DeleteVMResource(ctx, rec.Project, env.ID, id); err != nil {
			return rm, fmt.Errorf("delete VM resource %d (%s): %w", id, rec.ResourceName, err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(agents)) {
		if err := m.o.ADO.DeleteAgent(ctx, env.PoolID, id); err != nil {
			return rm, fmt.Errorf("delete hidden agent %d (%s) from deployment pool %d: %w", id, rec.ResourceName, env.PoolID, err)
		}
	}
	return rm, nil
}

// markGone writes the record as gone, re-reading on a lost write; a lifecycle action that a
// concurrent event recorded meanwhile is completed too.
func (m *Manager) markGone(ctx context.Context, rec store.VMRecord, log *slog.Logger) error {
	done := rec.LifecycleHook + "/" + rec.LifecycleToken
	for range maxConflicts {
		if rec.State == store.VMGone {
			return nil
		}
		if rec.LifecycleHook != "" && rec.LifecycleHook+"/"+rec.LifecycleToken != done {
			if err := m.completeLifecycle(ctx, rec.AutoScalingGroup, rec.LifecycleHook, rec.LifecycleToken, rec.InstanceID, log); err != nil {
				return err
			}
			done = rec.LifecycleHook + "/" + rec.LifecycleToken
		}
		rec.State, rec.Reason = store.VMGone, "VM resource and hidden agent removed"
		_, err := m.update(ctx, rec)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if rec, err = m.o.Store.GetVM(ctx, rec.InstanceID); err != nil {
			return fmt.Errorf("re-read the record of %s: %w", rec.InstanceID, err)
		}
	}
	return errBusy
}

// completeLifecycle lets Auto Scaling go on terminating the instance. An action that is no longer
// pending (completed by a duplicate, or timed out) is success.
func (m *Manager) completeLifecycle(ctx context.Context, group, hook, token, instanceID string, log *slog.Logger) error {
	if m.o.DryRun {
		log.Info("dry run: would complete the lifecycle action", "lifecycle_hook", hook)
		return nil
	}
	in := &autoscaling.CompleteLifecycleActionInput{
		AutoScalingGroupName: aws.String(group), LifecycleHookName: aws.String(hook),
		LifecycleActionResult: aws.String("CONTINUE"), InstanceId: aws.String(instanceID),
	}
	if token != "" {
		in.LifecycleActionToken = aws.String(token)
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := m.o.AutoScaling.CompleteLifecycleAction(cctx, in)
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "No active Lifecycle Action") {
			log.Debug("lifecycle action no longer pending", "lifecycle_hook", hook)
			return nil
		}
		return fmt.Errorf("complete lifecycle action of hook %s for %s: %w", hook, instanceID, err)
	}
	log.Info("lifecycle action completed", "lifecycle_hook", hook)
	return nil
}

func (m *Manager) forgetIfGone(rec store.VMRecord, err error) {
	if errors.Is(err, ado.ErrNotFound) {
		m.envs.forget(rec.Project, rec.Environment)
	}
}

func (m *Manager) publish(ctx context.Context, e notify.Event) {
	e.Time = m.now()
	if err := m.o.Events.Publish(ctx, e); err != nil {
		m.log.Warn("publishing an event failed", "type", e.Type, "error", err)
	}
}
