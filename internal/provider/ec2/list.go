package ec2

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/adofleet/adofleet/internal/provider"
)

// listedStates are the states List asks for. Terminated instances stay visible in EC2 for about
// an hour, which is the "recently ended" window List reports them in.
var listedStates = []string{"pending", "running", "shutting-down", "stopping", "stopped", "terminated"}

// MaxTerminateBatch is TerminateInstances' limit on IDs per call.
const MaxTerminateBatch = 1000

// List returns the instances tagged for pool and this provider's controller.
func (p *Provider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	filters := []types.Filter{
		{Name: aws.String("tag:" + provider.TagPool), Values: []string{pool}},
		{Name: aws.String("instance-state-name"), Values: listedStates},
	}
	if p.opts.Controller != "" {
		filters = append(filters, types.Filter{Name: aws.String("tag:" + provider.TagController), Values: []string{p.opts.Controller}})
	}
	insts, err := p.describe(ctx, filters)
	if err != nil {
		return nil, fmt.Errorf("ec2 provider: list pool %q: %w", pool, err)
	}
	if p.asg != nil {
		insts, err = p.listASG(ctx, pool, insts)
		if err != nil {
			return nil, err
		}
	}
	sortInstances(insts)
	return insts, nil
}

// describe runs DescribeInstances over every page.
func (p *Provider) describe(ctx context.Context, filters []types.Filter) ([]provider.Instance, error) {
	var out []provider.Instance
	pages := awsec2.NewDescribeInstancesPaginator(p.opts.EC2, &awsec2.DescribeInstancesInput{
		Filters:    filters,
		MaxResults: aws.Int32(1000),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeInstances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				out = append(out, toInstance(in))
			}
		}
	}
	return out, nil
}

// toInstance maps an EC2 instance to the provider's view.
func toInstance(in types.Instance) provider.Instance {
	tags := make(map[string]string, len(in.Tags))
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	out := provider.Instance{
		ID:         aws.ToString(in.InstanceId),
		Pool:       tags[provider.TagPool],
		AgentName:  tags[provider.TagAgent],
		Tags:       tags,
		LaunchedAt: aws.ToTime(in.LaunchTime),
	}
	if in.State != nil {
		out.State = mapState(in.State.Name)
	} else {
		out.State = provider.StatePending
	}
	if !out.State.Alive() && in.StateReason != nil {
		out.Reason = aws.ToString(in.StateReason.Message)
	}
	return out
}

// mapState maps EC2's lifecycle to the provider's. A stopped instance no longer counts against
// the pool (instances terminate on shutdown, so it is on its way out or was stopped by hand).
func mapState(s types.InstanceStateName) provider.State {
	switch s {
	case types.InstanceStateNamePending:
		return provider.StatePending
	case types.InstanceStateNameRunning:
		return provider.StateRunning
	case types.InstanceStateNameTerminated:
		return provider.StateTerminated
	default: // shutting-down, stopping, stopped
		return provider.StateStopping
	}
}

// Terminate terminates ids in batches of MaxTerminateBatch. IDs EC2 no longer knows are not
// errors: EC2 fails a whole call for one unknown ID, so such a batch is retried without them.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	if p.asg != nil {
		return p.terminateASG(ctx, ids)
	}
	var errs []error
	for batch := range slices.Chunk(ids, MaxTerminateBatch) {
		if err := p.terminateBatch(ctx, batch); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var instanceIDPattern = regexp.MustCompile(`i-[0-9a-f]+`)

func (p *Provider) terminateBatch(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		_, err := p.opts.EC2.TerminateInstances(ctx, &awsec2.TerminateInstancesInput{InstanceIds: ids})
		if err == nil {
			p.log.Info("instances terminated", "count", len(ids))
			return nil
		}
		code := errorCode(err)
		if code != "InvalidInstanceID.NotFound" && code != "InvalidInstanceID.Malformed" {
			return fmt.Errorf("ec2 provider: TerminateInstances (%d ids): %w", len(ids), err)
		}
		var api smithy.APIError
		errors.As(err, &api) // errorCode found one
		gone := instanceIDPattern.FindAllString(api.ErrorMessage(), -1)
		rest := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(gone, id) })
		if len(rest) == len(ids) {
			// The message named none of them: fall back to one call per ID.
			if len(ids) == 1 {
				p.log.Info("instance already gone", "id", ids[0])
				return nil
			}
			var errs []error
			for _, id := range ids {
				errs = append(errs, p.terminateBatch(ctx, []string{id}))
			}
			return errors.Join(errs...)
		}
		p.log.Info("instances already gone", "ids", gone)
		ids = rest
	}
	return nil
}

// sortInstances orders instances by launch time, then ID, so List is stable.
func sortInstances(insts []provider.Instance) {
	slices.SortFunc(insts, func(a, b provider.Instance) int {
		if c := a.LaunchedAt.Compare(b.LaunchedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
