package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/adofleet/adofleet/internal/provider"
)

// attempt is one way of starting an agent: a market and an override.
type attempt struct {
	spot         bool
	instanceType string // "" = the template's
	subnet       string // "" = the template's
}

func (a attempt) String() string {
	market := "on-demand"
	if a.spot {
		market = "spot"
	}
	return fmt.Sprintf("%s/%s/%s", market, or(a.instanceType, "template-type"), or(a.subnet, "template-subnet"))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// attempts lists the ways to start an agent, in order: spot across every override when
// configured, then on-demand across every override.
func (p *Provider) attempts() []attempt {
	kinds := p.opts.InstanceTypes
	if len(kinds) == 0 {
		kinds = []string{""}
	}
	subnets := p.opts.Subnets
	if len(subnets) == 0 {
		subnets = []string{""}
	}
	markets := []bool{false}
	if p.opts.Spot {
		markets = []bool{true, false}
	}
	var out []attempt
	for _, spot := range markets {
		for _, t := range kinds {
			for _, s := range subnets {
				out = append(out, attempt{spot: spot, instanceType: t, subnet: s})
			}
		}
	}
	return out
}

// Launch starts one instance per agent of req. It is idempotent per req.Token (see the package
// comment). Agents that fail come back in a *provider.PartialError, typed
// provider.ErrInsufficientCapacity when every override and market ran out of capacity.
func (p *Provider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	tags, err := p.requestTags(req)
	if err != nil {
		return nil, err
	}
	if p.asg != nil {
		return p.launchASG(ctx, req, tags)
	}
	existing, err := p.byToken(ctx, req.Token, tags[provider.TagPool])
	if err != nil {
		return nil, err
	}

	var (
		mu        sync.Mutex
		out       []provider.Instance
		failed    = map[string]error{}
		exhausted atomic.Bool // capacity ran out everywhere: the rest of the batch is not tried
		wg        sync.WaitGroup
		sem       = make(chan struct{}, p.opts.Concurrency)
	)
	for _, spec := range req.Agents {
		if in, ok := existing[spec.Name]; ok {
			mu.Lock() // workers of earlier agents append too
			out = append(out, in)
			mu.Unlock()
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var (
				in  provider.Instance
				err error
			)
			if exhausted.Load() {
				err = fmt.Errorf("launch agent %q: %w: capacity ran out for an earlier agent of the batch", spec.Name, provider.ErrInsufficientCapacity)
			} else {
				in, err = p.launchOne(ctx, req, spec.Name, tags)
				if err != nil && errorIsCapacity(err) {
					exhausted.Store(true)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[spec.Name] = err
				p.log.Warn("agent failed to launch", "pool", req.Pool, "agent", spec.Name, "err", err)
				return
			}
			out = append(out, in)
		}()
	}
	wg.Wait()
	sortInstances(out)
	if len(failed) > 0 {
		return out, &provider.PartialError{Failed: failed}
	}
	return out, nil
}

// launchOne walks the attempts for one agent until an instance starts.
func (p *Provider) launchOne(ctx context.Context, req provider.LaunchRequest, agent string, common map[string]string) (provider.Instance, error) {
	if agent == "" {
		return provider.Instance{}, fmt.Errorf("launch agent: %w: empty agent name", provider.ErrInvalidRequest)
	}
	ud, err := p.userData(req, agent)
	if err != nil {
		return provider.Instance{}, fmt.Errorf("launch agent %q: %w", agent, err)
	}
	tags := maps.Clone(common)
	tags[provider.TagAgent] = agent
	tags["Name"] = agent

	var lastCapacity error
	spotDead := false
	for _, a := range p.attempts() {
		if a.spot && spotDead {
			continue
		}
		out, err := p.opts.EC2.RunInstances(ctx, p.runInput(req.Token, agent, ud, tags, a))
		if err == nil {
			if len(out.Instances) == 0 {
				return provider.Instance{}, fmt.Errorf("launch agent %q: RunInstances (%s) returned no instance", agent, a)
			}
			in := toInstance(out.Instances[0])
			p.log.Info("instance launched", "pool", req.Pool, "agent", agent, "id", in.ID, "attempt", a.String())
			return in, nil
		}
		switch classify(err) {
		case classSpot:
			spotDead = true
			lastCapacity = err
			p.log.Info("spot unavailable, falling back to on-demand", "agent", agent, "attempt", a.String(), "code", errorCode(err))
		case classCapacity:
			lastCapacity = err
			p.log.Info("no capacity, trying the next override", "agent", agent, "attempt", a.String(), "code", errorCode(err))
		default:
			return provider.Instance{}, fatal(agent, fmt.Errorf("RunInstances (%s): %w", a, err))
		}
	}
	return provider.Instance{}, fmt.Errorf("launch agent %q: %w: every instance type, subnet and market failed, last: %w",
		agent, provider.ErrInsufficientCapacity, lastCapacity)
}

func (p *Provider) runInput(token, agent, userData string, tags map[string]string, a attempt) *awsec2.RunInstancesInput {
	lt := &types.LaunchTemplateSpecification{Version: aws.String(p.opts.LaunchTemplate.Version)}
	if p.opts.LaunchTemplate.ID != "" {
		lt.LaunchTemplateId = aws.String(p.opts.LaunchTemplate.ID)
	} else {
		lt.LaunchTemplateName = aws.String(p.opts.LaunchTemplate.Name)
	}
	in := &awsec2.RunInstancesInput{
		MinCount:                          aws.Int32(1),
		MaxCount:                          aws.Int32(1),
		LaunchTemplate:                    lt,
		UserData:                          aws.String(userData),
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: ec2Tags(tags)},
			{ResourceType: types.ResourceTypeVolume, Tags: ec2Tags(tags)},
		},
	}
	if token != "" {
		in.ClientToken = aws.String(ClientToken(token, agent, a.String()))
	}
	if a.instanceType != "" {
		in.InstanceType = types.InstanceType(a.instanceType)
	}
	if a.subnet != "" {
		in.SubnetId = aws.String(a.subnet)
	}
	if a.spot {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{
			MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{
				SpotInstanceType:             types.SpotInstanceTypeOneTime,
				InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate,
			},
		}
	}
	return in
}

func errorIsCapacity(err error) bool { return errors.Is(err, provider.ErrInsufficientCapacity) }

// ClientToken is the RunInstances idempotency token of one attempt: at most 64 ASCII characters,
// the same for the same launch token, agent and attempt.
func ClientToken(launchToken, agent, attempt string) string {
	sum := sha256.Sum256([]byte(launchToken + "\x00" + agent + "\x00" + attempt))
	return "adofleet-" + hex.EncodeToString(sum[:])[:48]
}

func ec2Tags(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// byToken returns, by agent name, the instances an earlier launch with req.Token started.
func (p *Provider) byToken(ctx context.Context, token, pool string) (map[string]provider.Instance, error) {
	out := map[string]provider.Instance{}
	if token == "" {
		return out, nil
	}
	insts, err := p.describe(ctx, []types.Filter{
		{Name: aws.String("tag:" + provider.TagToken), Values: []string{token}},
		{Name: aws.String("tag:" + provider.TagPool), Values: []string{pool}},
	})
	if err != nil {
		return nil, fmt.Errorf("ec2 provider: launch: find instances of token %s: %w", token, err)
	}
	for _, in := range insts {
		if in.AgentName != "" {
			out[in.AgentName] = in
		}
	}
	return out, nil
}

// requestTags returns the tags common to every instance of req, filling the pool, controller and
// token tags when the request lacks them.
func (p *Provider) requestTags(req provider.LaunchRequest) (map[string]string, error) {
	tags := maps.Clone(req.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	if tags[provider.TagPool] == "" {
		tags[provider.TagPool] = req.Pool
	}
	if tags[provider.TagPool] == "" {
		return nil, fmt.Errorf("ec2 provider: launch: %w: no pool", provider.ErrInvalidRequest)
	}
	if tags[provider.TagController] == "" && p.opts.Controller != "" {
		tags[provider.TagController] = p.opts.Controller
	}
	if tags[provider.TagToken] == "" && req.Token != "" {
		tags[provider.TagToken] = req.Token
	}
	return tags, nil
}
