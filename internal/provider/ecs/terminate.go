package ecs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/adofleet/adofleet/internal/provider"
)

// Terminate stops the given tasks (ARNs), at most 10 StopTask calls at once, with a reason that
// says adofleet stopped them. A task already stopped or unknown to ECS is not an error.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	reason := "adofleet: stopped by controller " + p.opts.Controller + " (scale-in or clean-up)"
	return provider.TerminateEach(ctx, ids, maxConcurrentRunTask, func(ctx context.Context, id string) error {
		cctx, cancel := p.call(ctx)
		defer cancel()
		_, err := p.api.StopTask(cctx, &ecs.StopTaskInput{
			Cluster: aws.String(p.opts.Cluster),
			Task:    aws.String(id),
			Reason:  aws.String(reason),
		})
		if err == nil || isGone(err) {
			p.log.Info("agent task stopped on request", "task", id, "gone", err != nil)
			return nil
		}
		return fmt.Errorf("ecs provider: StopTask %s: %w", id, classify(err))
	})
}
