package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/adofleet/adofleet/internal/provider"
)

// List returns the pool's tasks started by this controller: those ECS still runs and those it
// stopped recently (ECS keeps a stopped task visible for about an hour), so that a task that
// stopped before its agent registered is seen with its reason. Tasks are found by startedBy and
// kept by tag (provider.IsOurs), never by name. Each newly seen stopped task is logged with its
// reason and counted in adofleet_ecs_tasks_stopped_total.
func (p *Provider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	var arns []string
	for _, desired := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		got, err := p.listTaskARNs(ctx, desired)
		if err != nil {
			return nil, err
		}
		arns = append(arns, got...)
	}
	tasks, err := p.describe(ctx, arns)
	if err != nil {
		return nil, err
	}
	var out []provider.Instance
	stopped := map[string]bool{}
	for _, t := range tasks {
		inst := p.instance(t)
		if !provider.IsOurs(inst, pool, p.opts.Controller) {
			continue
		}
		out = append(out, inst)
		if inst.State == provider.StateTerminated {
			stopped[inst.ID] = true
			p.reportStopped(pool, inst, t)
		}
	}
	p.forgetReported(pool, stopped)
	provider.SortInstances(out)
	return out, nil
}

// listTaskARNs pages through ListTasks for this controller's startedBy.
func (p *Provider) listTaskARNs(ctx context.Context, desired types.DesiredStatus) ([]string, error) {
	var arns []string
	in := &ecs.ListTasksInput{
		Cluster:       aws.String(p.opts.Cluster),
		StartedBy:     aws.String(p.startedBy),
		DesiredStatus: desired,
	}
	for {
		cctx, cancel := p.call(ctx)
		res, err := p.api.ListTasks(cctx, in)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("ecs provider: ListTasks (%s): %w", desired, classify(err))
		}
		arns = append(arns, res.TaskArns...)
		if aws.ToString(res.NextToken) == "" {
			return arns, nil
		}
		in.NextToken = res.NextToken
	}
}

// describe calls DescribeTasks with the tags, at most 100 tasks a call. A task that vanished
// between the list and the describe is skipped.
func (p *Provider) describe(ctx context.Context, arns []string) ([]types.Task, error) {
	var out []types.Task
	for chunk := range slices.Chunk(arns, maxDescribeTasks) {
		cctx, cancel := p.call(ctx)
		res, err := p.api.DescribeTasks(cctx, &ecs.DescribeTasksInput{
			Cluster: aws.String(p.opts.Cluster),
			Tasks:   chunk,
			Include: []types.TaskField{types.TaskFieldTags},
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("ecs provider: DescribeTasks (%d tasks): %w", len(chunk), classify(err))
		}
		out = append(out, res.Tasks...)
	}
	return out, nil
}

// instance maps an ECS task to the provider-neutral view.
func (p *Provider) instance(t types.Task) provider.Instance {
	tags := make(map[string]string, len(t.Tags))
	for _, tg := range t.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	inst := provider.Instance{
		ID:        aws.ToString(t.TaskArn),
		Pool:      tags[provider.TagPool],
		AgentName: tags[provider.TagAgent],
		State:     state(aws.ToString(t.LastStatus), aws.ToString(t.DesiredStatus)),
		Tags:      tags,
	}
	if t.CreatedAt != nil {
		inst.LaunchedAt = *t.CreatedAt
	} else {
		inst.LaunchedAt = p.now()
	}
	if inst.State == provider.StateTerminated || inst.State == provider.StateStopping {
		inst.Reason = stopReason(t)
	}
	return inst
}

// state maps ECS's lastStatus (the task lifecycle: PROVISIONING, PENDING, ACTIVATING, RUNNING,
// DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED). A running task ECS was told to stop is
// already stopping.
func state(last, desired string) provider.State {
	switch last {
	case "STOPPED":
		return provider.StateTerminated
	case "DEACTIVATING", "STOPPING", "DEPROVISIONING":
		return provider.StateStopping
	}
	if desired == "STOPPED" {
		return provider.StateStopping
	}
	if last == "RUNNING" {
		return provider.StateRunning
	}
	return provider.StatePending // PROVISIONING, PENDING, ACTIVATING, or anything newer
}

// stopReason joins what ECS says about a stop: the stop code, the task's reason, and each
// container's reason or exit code (where CannotPullContainerError and the like appear).
func stopReason(t types.Task) string {
	var parts []string
	if t.StopCode != "" {
		parts = append(parts, string(t.StopCode))
	}
	if r := aws.ToString(t.StoppedReason); r != "" {
		parts = append(parts, r)
	}
	for _, c := range t.Containers {
		name := aws.ToString(c.Name)
		switch {
		case aws.ToString(c.Reason) != "":
			parts = append(parts, name+": "+aws.ToString(c.Reason))
		case c.ExitCode != nil:
			parts = append(parts, fmt.Sprintf("%s: exit code %d", name, *c.ExitCode))
		}
	}
	return strings.Join(parts, "; ")
}

// reasonClass buckets a stopped task for the metric label.
func reasonClass(t types.Task) string {
	all := stopReason(t)
	switch {
	case t.StopCode == types.TaskStopCodeUserInitiated:
		return ReasonUserInitiated
	case t.StopCode == types.TaskStopCodeSpotInterruption:
		return ReasonSpotInterrupt
	case strings.Contains(all, "CannotPullContainer"):
		return ReasonCannotPull
	case strings.Contains(all, "ResourceInitializationError"):
		return ReasonResourceInit
	case t.StopCode == types.TaskStopCodeTaskFailedToStart:
		return ReasonFailedToStart
	case t.StopCode == types.TaskStopCodeEssentialContainerExited:
		for _, c := range t.Containers {
			if c.ExitCode != nil && *c.ExitCode != 0 {
				return ReasonExitError
			}
		}
		return ReasonExited
	}
	return ReasonOther
}

// reportStopped logs and counts a stopped task the first time List sees it. A task that ended
// in any way but its agent exiting cleanly or our StopTask is a warning: it is most often a
// task that never got as far as registering its agent.
func (p *Provider) reportStopped(pool string, inst provider.Instance, t types.Task) {
	p.mu.Lock()
	_, seen := p.reported[inst.ID]
	p.reported[inst.ID] = pool
	p.mu.Unlock()
	if seen {
		return
	}
	class := reasonClass(t)
	p.metrics.stopped.WithLabelValues(pool, class).Inc()
	level := p.log.Warn
	if class == ReasonExited || class == ReasonUserInitiated {
		level = p.log.Info
	}
	level("agent task stopped", "pool", pool, "agent", inst.AgentName, "task", inst.ID,
		"reason_class", class, "reason", inst.Reason)
}

// forgetReported drops the pool's stopped tasks ECS no longer lists, so the set stays small.
func (p *Provider) forgetReported(pool string, listed map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, of := range p.reported {
		if of == pool && !listed[id] {
			delete(p.reported, id)
		}
	}
}
