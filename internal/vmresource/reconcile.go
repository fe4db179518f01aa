package vmresource

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/adofleet/adofleet/internal/store"
)

// instanceIDPattern is an EC2 instance id. Only resources and agents named like one are
// considered: a machine someone registered by hand under another name is never touched.
var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// describeBatch bounds the instance ids in one DescribeInstances filter.
const describeBatch = 200

// Reconcile compares every configured Environment with its groups: a VM resource, hidden agent or
// unfinished record whose instance no longer exists is removed (reported only, in a dry run); a
// running instance of a configured group that is not in its Environment is reported as missing;
// a record whose resource has appeared meanwhile gets the resource's ids. The error is non-nil
// when some part failed; the report covers the rest.
func (m *Manager) Reconcile(ctx context.Context) (Report, error) {
	rep := Report{DryRun: m.o.DryRun}
	for i := range m.o.Targets {
		t := &m.o.Targets[i]
		missing := len(rep.Missing)
		if err := m.reconcileTarget(ctx, t, &rep); err != nil {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%s/%s: %v", t.Project, t.Environment, err))
		}
		m.m.missing.WithLabelValues(t.Project, t.Environment).Set(float64(len(rep.Missing) - missing))
	}
	rep.sort()
	if len(rep.Errors) > 0 {
		return rep, fmt.Errorf("vmresource: reconcile: %d errors, first: %s", len(rep.Errors), rep.Errors[0])
	}
	return rep, nil
}

func (m *Manager) reconcileTarget(ctx context.Context, t *Target, rep *Report) error {
	env, err := m.envs.get(ctx, t.Project, t.Environment)
	if err != nil {
		return err
	}
	resources, err := m.o.ADO.ListVMResources(ctx, t.Project, env.ID)
	if err != nil {
		m.envs.forget(t.Project, t.Environment)
		return fmt.Errorf("list VM resources: %w", err)
	}
	agents, err := m.o.ADO.ListAgents(ctx, env.PoolID)
	if err != nil {
		return fmt.Errorf("list the hidden agents of deployment pool %d: %w", env.PoolID, err)
	}
	recs, err := m.o.Store.ListVMs(ctx, store.VMFilter{Project: t.Project, Environment: t.Environment,
		States: []store.VMState{store.VMLaunching, store.VMRegistered, store.VMTerminating}})
	if err != nil {
		return fmt.Errorf("list VM records: %w", err)
	}
	inGroups, err := m.groupInstances(ctx, t.AutoScalingGroups)
	if err != nil {
		return err
	}

	// Every instance id the Environment or the store mentions.
	registered := map[string]int{} // resource name -> resource id
	candidates := map[string]bool{}
	for _, r := range resources {
		if instanceIDPattern.MatchString(r.Name) {
			registered[r.Name] = r.ID
			candidates[r.Name] = true
		}
	}
	for _, a := range agents {
		if instanceIDPattern.MatchString(a.Name) {
			candidates[a.Name] = true
		}
	}
	for _, r := range recs {
		candidates[r.InstanceID] = true
	}
	alive, err := m.existing(ctx, candidates)
	if err != nil {
		return err
	}

	var errs []error
	for _, id := range sortedKeys(candidates) {
		if alive[id] {
			continue
		}
		rm, err := m.removeGone(ctx, t, id, registered[id])
		if err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", id, err))
			continue
		}
		if rm.ResourceID != 0 || rm.AgentID != 0 {
			rep.Removed = append(rep.Removed, rm)
			if !m.o.DryRun {
				m.m.removals.Inc()
			}
		}
	}
	for _, r := range recs {
		if r.State == store.VMLaunching && alive[r.InstanceID] && registered[r.ResourceName] != 0 {
			if _, err := m.resolve(ctx, r, m.log.With("instance", r.InstanceID)); err != nil {
				errs = append(errs, fmt.Errorf("record the VM resource of %s: %w", r.InstanceID, err))
			}
		}
	}
	for _, g := range t.AutoScalingGroups {
		for _, id := range inGroups[g] {
			if registered[id] == 0 {
				rep.Missing = append(rep.Missing, MissingInstance{Project: t.Project, Environment: t.Environment,
					AutoScalingGroup: g, InstanceID: id})
			}
		}
	}
	return errors.Join(errs...)
}

// removeGone deregisters an instance that no longer exists, recording it as terminating first
// (created if unknown, so a late launch event does nothing).
func (m *Manager) removeGone(ctx context.Context, t *Target, id string, resourceID int) (Removal, error) {
	log := m.log.With("instance", id, "by", "reconcile")
	for range maxConflicts {
		rec, err := m.o.Store.GetVM(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			rec, err = m.create(ctx, m.newRecord(t, "", id, store.VMTerminating, "instance no longer exists (reconcile)"))
		case err != nil:
			return Removal{}, fmt.Errorf("read the record of %s: %w", id, err)
		default:
			// The resource now in the Environment is this instance's (its name is the instance
			// id and the instance is gone), whatever id was recorded before.
			if resourceID != 0 {
				rec.ResourceID, rec.AgentID = resourceID, 0
			}
			rec.State, rec.Reason, rec.ExpiresAt = store.VMTerminating, "instance no longer exists (reconcile)", time.Time{}
			rec, err = m.update(ctx, rec)
		}
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Removal{}, err
		}
		return m.deregister(ctx, rec, log)
	}
	return Removal{}, errBusy
}

// groupInstances returns the InService instances of each group.
func (m *Manager) groupInstances(ctx context.Context, groups []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(groups) == 0 {
		return out, nil
	}
	in := &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: groups}
	for page := 0; page < 100; page++ {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		res, err := m.o.AutoScaling.DescribeAutoScalingGroups(cctx, in)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("describe Auto Scaling groups %v: %w", groups, err)
		}
		for _, g := range res.AutoScalingGroups {
			name := aws.ToString(g.AutoScalingGroupName)
			for _, i := range g.Instances {
				if i.LifecycleState == "InService" {
					out[name] = append(out[name], aws.ToString(i.InstanceId))
				}
			}
		}
		if aws.ToString(res.NextToken) == "" {
			return out, nil
		}
		in.NextToken = res.NextToken
	}
	return nil, errors.New("describe Auto Scaling groups: too many pages")
}

// existing reports which of ids are instances that still exist (any state but shutting-down and
// terminated). An id EC2 does not know is gone.
func (m *Manager) existing(ctx context.Context, ids map[string]bool) (map[string]bool, error) {
	out := map[string]bool{}
	all := sortedKeys(ids)
	for len(all) > 0 {
		batch := all[:min(len(all), describeBatch)]
		all = all[len(batch):]
		// A filter, not InstanceIds: an unknown id is an answer here, not an error.
		in := &awsec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: batch}}}
		for page := 0; ; page++ {
			if page == 100 {
				return nil, errors.New("describe instances: too many pages")
			}
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			res, err := m.o.EC2.DescribeInstances(cctx, in)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("describe %d instances: %w", len(batch), err)
			}
			for _, r := range res.Reservations {
				for _, i := range r.Instances {
					if s := i.State; s != nil && s.Name != ec2types.InstanceStateNameTerminated && s.Name != ec2types.InstanceStateNameShuttingDown {
						out[aws.ToString(i.InstanceId)] = true
					}
				}
			}
			if aws.ToString(res.NextToken) == "" {
				break
			}
			in.NextToken = res.NextToken
		}
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
