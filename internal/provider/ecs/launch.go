package ecs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/adofleet/adofleet/internal/provider"
)

// Launch starts one task per agent of req: one RunTask call each, at most 10 in flight. It is
// idempotent per req.Token: each call's clientToken is derived from the token and the agent's
// name, so a repeated Launch gets the tasks the first one started back from ECS instead of new
// ones. Agents that did not start come back in a *provider.PartialError.
func (p *Provider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	if req.Pool == "" {
		return nil, fmt.Errorf("ecs provider: launch: %w: no pool", provider.ErrInvalidRequest)
	}
	if len(req.Agents) == 0 {
		return nil, nil
	}
	taskDef := p.opts.TaskDefinition
	if req.Template != "" {
		taskDef = req.Template
	}
	if err := p.verifyTaskDefinition(ctx, taskDef); err != nil {
		return nil, fmt.Errorf("ecs provider: launch %d agent(s) of pool %q: %w", len(req.Agents), req.Pool, err)
	}
	env := p.plainEnv(req.Env)

	return provider.LaunchEach(ctx, req.Agents, maxConcurrentRunTask, func(ctx context.Context, agent string) (provider.Instance, error) {
		return p.runOne(ctx, req, taskDef, agent, env)
	}, func(agent string, err error) {
		p.log.Warn("agent task did not start", "pool", req.Pool, "agent", agent, "err", err)
	})
}

// runOne starts the task of one agent.
func (p *Provider) runOne(ctx context.Context, req provider.LaunchRequest, taskDef, agent string, env map[string]string) (provider.Instance, error) {
	tags := p.tags(req, agent)
	in := p.runTaskInput(req, taskDef, agent, env, tags)
	cctx, cancel := p.call(ctx)
	defer cancel()
	res, err := p.api.RunTask(cctx, in)
	if err != nil {
		return provider.Instance{}, fmt.Errorf("RunTask for agent %q: %w", agent, classify(err))
	}
	if len(res.Tasks) == 0 {
		if len(res.Failures) == 0 {
			return provider.Instance{}, fmt.Errorf("RunTask for agent %q: no task and no failure in the response", agent)
		}
		f := res.Failures[0]
		return provider.Instance{}, fmt.Errorf("RunTask for agent %q: %w", agent, failureError(f))
	}
	inst := p.instance(res.Tasks[0])
	if inst.AgentName == "" {
		inst.AgentName = agent
	}
	if inst.Pool == "" {
		inst.Pool = req.Pool
	}
	return inst, nil
}

func (p *Provider) runTaskInput(req provider.LaunchRequest, taskDef, agent string, env, tags map[string]string) *ecs.RunTaskInput {
	agentEnv := maps.Clone(env)
	agentEnv[AgentNameEnv] = agent
	in := &ecs.RunTaskInput{
		TaskDefinition:       aws.String(taskDef),
		Cluster:              aws.String(p.opts.Cluster),
		Count:                aws.Int32(1),
		StartedBy:            aws.String(p.startedBy),
		ClientToken:          aws.String(clientToken(req.Token, agent)),
		EnableECSManagedTags: true,
		PropagateTags:        types.PropagateTagsNone,
		Overrides: &types.TaskOverride{
			ContainerOverrides: []types.ContainerOverride{{
				Name:        aws.String(p.opts.ContainerName),
				Environment: keyValues(agentEnv),
			}},
		},
	}
	if req.Token == "" {
		in.ClientToken = nil // the SDK then generates one: no idempotency was asked for
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	// The pool's size wins over the provider's; either may be empty (the task definition's).
	if cpu := cmp.Or(req.Resources.CPU, p.opts.CPU); cpu != "" {
		in.Overrides.Cpu = aws.String(cpu)
	}
	if mem := cmp.Or(req.Resources.Memory, p.opts.Memory); mem != "" {
		in.Overrides.Memory = aws.String(mem)
	}
	if p.opts.Group != "" {
		in.Group = aws.String(p.opts.Group)
	}
	if p.opts.PlatformVersion != "" {
		in.PlatformVersion = aws.String(p.opts.PlatformVersion)
	}
	if p.opts.LaunchType != "" {
		in.LaunchType = types.LaunchType(p.opts.LaunchType)
	}
	for _, cp := range p.opts.CapacityProviderStrategy {
		in.CapacityProviderStrategy = append(in.CapacityProviderStrategy, types.CapacityProviderStrategyItem{
			CapacityProvider: aws.String(cp.Provider), Weight: cp.Weight, Base: cp.Base,
		})
	}
	if len(p.opts.Subnets) > 0 {
		public := types.AssignPublicIpDisabled
		if p.opts.AssignPublicIP {
			public = types.AssignPublicIpEnabled
		}
		in.NetworkConfiguration = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets:        slices.Clone(p.opts.Subnets),
			SecurityGroups: slices.Clone(p.opts.SecurityGroups),
			AssignPublicIp: public,
		}}
	}
	return in
}

// tags are the request's tags plus this agent's, with pool, controller and token filled in.
func (p *Provider) tags(req provider.LaunchRequest, agent string) map[string]string {
	tags := maps.Clone(req.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	maps.Copy(tags, provider.TagsFor(req.Pool, p.opts.Controller, agent, req.Token))
	if req.Tags[provider.TagController] != "" {
		tags[provider.TagController] = req.Tags[provider.TagController]
	}
	return tags
}

// plainEnv is the environment sent in the overrides: Options.Env then the request's, without any
// variable the task definition fills from a secret (the registration token above all).
func (p *Provider) plainEnv(reqEnv map[string]string) map[string]string {
	env := maps.Clone(p.opts.Env)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, reqEnv)
	delete(env, TokenEnv)
	for _, s := range p.opts.Secrets {
		delete(env, s.Name)
	}
	return env
}

func keyValues(env map[string]string) []types.KeyValuePair {
	out := make([]types.KeyValuePair, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, types.KeyValuePair{Name: aws.String(k), Value: aws.String(env[k])})
	}
	return out
}

// clientToken is RunTask's idempotency token for one agent of a launch (ECS takes up to 64
// ASCII characters): the same launch token and agent always give the same one.
func clientToken(token, agent string) string {
	sum := sha256.Sum256([]byte(token + "\x00" + agent))
	return "adofleet-" + hex.EncodeToString(sum[:16])
}

// verifyTaskDefinition checks, once per taskDefCacheTTL, that the agent container of taskDef
// declares every secret of Options.Secrets with the same valueFrom.
func (p *Provider) verifyTaskDefinition(ctx context.Context, taskDef string) error {
	p.mu.Lock()
	at, ok := p.verified[taskDef]
	p.mu.Unlock()
	if ok && p.now().Sub(at) < taskDefCacheTTL {
		return nil
	}
	cctx, cancel := p.call(ctx)
	defer cancel()
	res, err := p.api.DescribeTaskDefinition(cctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(taskDef)})
	if err != nil {
		return fmt.Errorf("DescribeTaskDefinition %q: %w", taskDef, classify(err))
	}
	if res.TaskDefinition == nil {
		return fmt.Errorf("DescribeTaskDefinition %q: empty response", taskDef)
	}
	var agent *types.ContainerDefinition
	for i, c := range res.TaskDefinition.ContainerDefinitions {
		if aws.ToString(c.Name) == p.opts.ContainerName {
			agent = &res.TaskDefinition.ContainerDefinitions[i]
		}
	}
	if agent == nil {
		return fmt.Errorf("%w: task definition %q has no container %q", provider.ErrInvalidRequest, taskDef, p.opts.ContainerName)
	}
	declared := map[string]string{}
	for _, s := range agent.Secrets {
		declared[aws.ToString(s.Name)] = aws.ToString(s.ValueFrom)
	}
	for _, s := range p.opts.Secrets {
		if got, ok := declared[s.Name]; !ok || got != s.ValueFrom {
			return fmt.Errorf("%w: container %q of task definition %q must declare secret %s with valueFrom %q (RunTask cannot pass secrets)",
				provider.ErrInvalidRequest, p.opts.ContainerName, taskDef, s.Name, s.ValueFrom)
		}
	}
	p.mu.Lock()
	p.verified[taskDef] = p.now()
	p.mu.Unlock()
	return nil
}
