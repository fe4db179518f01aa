package ec2

// ASG mode grows an existing Auto Scaling group instead of calling RunInstances.
//
// How agents map to instances: Launch raises the group's desired capacity by the number of
// agents and remembers their names as pending; until the group reports new instances, List returns
// a placeholder per pending agent (ID PlaceholderPrefix+name, state pending). When List sees an
// instance of the group that carries no adofleet tags, it claims it for the oldest pending agent:
// CreateTags (pool, controller, token, agent, Name) and SetInstanceProtection, so scale-in never
// picks an instance with an agent on it. The instance learns its agent name from its
// adofleet:agent tag through the instance metadata service (the launch template must enable
// instance metadata tags, and its user data must wait for the tag).
//
// Terminate calls TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity for
// exactly the instance the scaler chose; for a placeholder it forgets the agent and lowers the
// desired capacity by one, which the group satisfies by removing an unprotected (unclaimed)
// instance.
//
// Limits: pending names live in memory, so after a controller restart unclaimed instances stay
// untagged (the controller's registration timeout covers the agents it was waiting for); one
// group serves one pool; the group's min size should be 0; and an agent must not simply power off
// at the end of its job (the group would replace it): its user data should end with
// `aws autoscaling terminate-instance-in-auto-scaling-group --should-decrement-desired-capacity`.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/adofleet/adofleet/internal/provider"
)

// PlaceholderPrefix starts the ID of an agent whose instance the group has not reported yet.
const PlaceholderPrefix = "asg-pending:"

type asgState struct {
	mu      sync.Mutex // serialises launches, claims and placeholder terminations
	pending map[string]*pendingAgent
}

type pendingAgent struct {
	name  string
	tags  map[string]string
	since time.Time
}

func (pa *pendingAgent) placeholder() provider.Instance {
	return provider.Instance{
		ID: PlaceholderPrefix + pa.name, Pool: pa.tags[provider.TagPool], AgentName: pa.name,
		State: provider.StatePending, Tags: maps.Clone(pa.tags), LaunchedAt: pa.since,
	}
}

func (p *Provider) group(ctx context.Context) (astypes.AutoScalingGroup, error) {
	out, err := p.opts.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{p.opts.AutoScalingGroup},
	})
	if err != nil {
		return astypes.AutoScalingGroup{}, fmt.Errorf("DescribeAutoScalingGroups %q: %w", p.opts.AutoScalingGroup, err)
	}
	if len(out.AutoScalingGroups) == 0 {
		return astypes.AutoScalingGroup{}, fmt.Errorf("%w: auto scaling group %q not found", provider.ErrInvalidRequest, p.opts.AutoScalingGroup)
	}
	return out.AutoScalingGroups[0], nil
}

func (p *Provider) launchASG(ctx context.Context, req provider.LaunchRequest, tags map[string]string) ([]provider.Instance, error) {
	claimed, err := p.byToken(ctx, req.Token, tags[provider.TagPool])
	if err != nil {
		return nil, err
	}
	st := p.asg
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []provider.Instance
	var fresh []string
	failed := map[string]error{}
	for _, spec := range req.Agents {
		switch in, ok := claimed[spec.Name]; {
		case ok:
			out = append(out, in)
		case st.pending[spec.Name] != nil:
			out = append(out, st.pending[spec.Name].placeholder())
		case spec.Name == "":
			failed[spec.Name] = fmt.Errorf("launch agent: %w: empty agent name", provider.ErrInvalidRequest)
		default:
			fresh = append(fresh, spec.Name)
		}
	}
	if len(fresh) > 0 {
		g, err := p.group(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2 provider: launch: %w", err)
		}
		desired, maxSize := aws.ToInt32(g.DesiredCapacity), aws.ToInt32(g.MaxSize)
		room := max(int(maxSize-desired), 0)
		if room < len(fresh) {
			for _, name := range fresh[room:] {
				failed[name] = fmt.Errorf("launch agent %q: %w: auto scaling group %q is at its max size %d",
					name, provider.ErrInsufficientCapacity, p.opts.AutoScalingGroup, maxSize)
			}
			fresh = fresh[:room]
		}
		if len(fresh) > 0 {
			want := desired + int32(len(fresh))
			if _, err := p.opts.AutoScaling.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
				AutoScalingGroupName: aws.String(p.opts.AutoScalingGroup),
				DesiredCapacity:      aws.Int32(want),
				HonorCooldown:        aws.Bool(false),
			}); err != nil {
				return nil, fmt.Errorf("ec2 provider: launch: SetDesiredCapacity %q to %d: %w", p.opts.AutoScalingGroup, want, err)
			}
			p.log.Info("auto scaling group grown", "group", p.opts.AutoScalingGroup, "desired", want, "agents", len(fresh))
			now := p.now()
			for _, name := range fresh {
				t := maps.Clone(tags)
				t[provider.TagAgent], t["Name"] = name, name
				pa := &pendingAgent{name: name, tags: t, since: now}
				st.pending[name] = pa
				out = append(out, pa.placeholder())
			}
		}
	}
	sortInstances(out)
	if len(failed) > 0 {
		return out, &provider.PartialError{Failed: failed}
	}
	return out, nil
}

// listASG claims the group's untagged instances for pending agents and adds placeholders for
// the agents still waiting. tagged are the pool's instances found by tag.
func (p *Provider) listASG(ctx context.Context, pool string, tagged []provider.Instance) ([]provider.Instance, error) {
	st := p.asg
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.pending) == 0 {
		return tagged, nil
	}
	g, err := p.group(ctx)
	if err != nil {
		return nil, fmt.Errorf("ec2 provider: list pool %q: %w", pool, err)
	}
	known := map[string]bool{}
	for _, in := range tagged {
		known[in.ID] = true
	}
	waiting := slices.SortedFunc(maps.Values(st.pending), func(a, b *pendingAgent) int {
		if c := a.since.Compare(b.since); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	out := tagged
	for _, gi := range g.Instances {
		id := aws.ToString(gi.InstanceId)
		if known[id] || len(waiting) == 0 || !claimable(gi.LifecycleState) {
			continue
		}
		pa := waiting[0]
		if err := p.claim(ctx, id, pa); err != nil {
			return nil, fmt.Errorf("ec2 provider: list pool %q: claim %s for agent %q: %w", pool, id, pa.name, err)
		}
		waiting = waiting[1:]
		delete(st.pending, pa.name)
		in := pa.placeholder()
		in.ID, in.LaunchedAt = id, p.now()
		if gi.LifecycleState == astypes.LifecycleStateInService {
			in.State = provider.StateRunning
		}
		out = append(out, in)
	}
	for _, pa := range waiting {
		if pa.tags[provider.TagPool] == pool {
			out = append(out, pa.placeholder())
		}
	}
	return out, nil
}

func claimable(s astypes.LifecycleState) bool {
	return s == astypes.LifecycleStatePending || s == astypes.LifecycleStatePendingWait ||
		s == astypes.LifecycleStatePendingProceed || s == astypes.LifecycleStateInService
}

// claim tags instance id for pa and protects it from scale-in.
func (p *Provider) claim(ctx context.Context, id string, pa *pendingAgent) error {
	if _, err := p.opts.AutoScaling.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
		AutoScalingGroupName: aws.String(p.opts.AutoScalingGroup),
		InstanceIds:          []string{id},
		ProtectedFromScaleIn: aws.Bool(true),
	}); err != nil {
		return fmt.Errorf("SetInstanceProtection: %w", err)
	}
	if _, err := p.opts.EC2.CreateTags(ctx, &awsec2.CreateTagsInput{
		Resources: []string{id},
		Tags:      ec2Tags(pa.tags),
	}); err != nil {
		return fmt.Errorf("CreateTags: %w", err)
	}
	p.log.Info("instance claimed for agent", "id", id, "agent", pa.name)
	return nil
}

func (p *Provider) terminateASG(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		if name, ok := strings.CutPrefix(id, PlaceholderPrefix); ok {
			errs = append(errs, p.dropPending(ctx, name))
			continue
		}
		_, err := p.opts.AutoScaling.TerminateInstanceInAutoScalingGroup(ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
			InstanceId:                     aws.String(id),
			ShouldDecrementDesiredCapacity: aws.Bool(true),
		})
		if err == nil {
			p.log.Info("instance terminated in auto scaling group", "id", id)
			continue
		}
		if errorCode(err) == "ValidationError" && strings.Contains(strings.ToLower(err.Error()), "not found") {
			// Not (or no longer) in the group: terminate it directly; gone is fine.
			errs = append(errs, p.terminateBatch(ctx, []string{id}))
			continue
		}
		errs = append(errs, fmt.Errorf("ec2 provider: TerminateInstanceInAutoScalingGroup %s: %w", id, err))
	}
	return errors.Join(errs...)
}

// dropPending forgets an agent the group has not produced an instance for and lowers the desired
// capacity by one.
func (p *Provider) dropPending(ctx context.Context, name string) error {
	st := p.asg
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pending[name] == nil {
		return nil // claimed or dropped meanwhile; the controller terminates the real instance
	}
	g, err := p.group(ctx)
	if err != nil {
		return fmt.Errorf("ec2 provider: terminate placeholder of %q: %w", name, err)
	}
	want := max(aws.ToInt32(g.DesiredCapacity)-1, aws.ToInt32(g.MinSize))
	if _, err := p.opts.AutoScaling.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String(p.opts.AutoScalingGroup),
		DesiredCapacity:      aws.Int32(want),
		HonorCooldown:        aws.Bool(false),
	}); err != nil {
		return fmt.Errorf("ec2 provider: terminate placeholder of %q: SetDesiredCapacity to %d: %w", name, want, err)
	}
	delete(st.pending, name)
	return nil
}
