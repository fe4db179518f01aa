package sim

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

// BootDist is the time from launch to the agent registering: uniform in [Min, Max].
type BootDist struct{ Min, Max time.Duration }

// Boot-time presets: ECS Fargate tasks and EC2 instances, image pull and agent start included.
var (
	BootFargate = BootDist{Min: 40 * time.Second, Max: 90 * time.Second}
	BootEC2     = BootDist{Min: 60 * time.Second, Max: 180 * time.Second}
)

// ParseBoot reads "fargate", "ec2" or "MIN-MAX" (Go durations, e.g. "30s-2m").
func ParseBoot(s string) (BootDist, error) {
	switch strings.ToLower(s) {
	case "fargate":
		return BootFargate, nil
	case "ec2":
		return BootEC2, nil
	}
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := time.ParseDuration(a)
	hi, err2 := time.ParseDuration(b)
	if !ok || err1 != nil || err2 != nil || lo <= 0 || hi < lo {
		return BootDist{}, fmt.Errorf("boot %q: want fargate, ec2 or MIN-MAX such as 40s-90s", s)
	}
	return BootDist{Min: lo, Max: hi}, nil
}

// Mean is the distribution's mean.
func (d BootDist) Mean() time.Duration { return (d.Min + d.Max) / 2 }

func (d BootDist) draw(rnd *rand.Rand) time.Duration {
	if d.Max <= d.Min {
		return d.Min
	}
	return d.Min + time.Duration(rnd.Int64N(int64(d.Max-d.Min)+1)).Truncate(time.Second)
}

// longestBoot is the longest boot a run can draw.
func (cfg Config) longestBoot() time.Duration {
	if len(cfg.BootSequence) > 0 {
		return slices.Max(cfg.BootSequence)
	}
	return cfg.Boot.Max
}

func (d BootDist) String() string { return d.Min.String() + "-" + d.Max.String() }

// instance is one simulated instance; its agent is in runner.agents by the same name.
type instance struct {
	provider.Instance
	boot    time.Duration
	endedAt time.Time // zero while alive
}

// simProvider is the provider the controller launches through: instances boot after a drawn
// delay (an evBoot event) and end when their --once agent exits, when terminated, or when a spot
// interruption hits them.
type simProvider struct {
	r       *runner
	insts   map[string]*instance
	order   []*instance            // launch order, for List
	byToken map[string][]*instance // idempotency
	nextID  int
}

var _ provider.Provider = (*simProvider)(nil)

// endedKept is how long an ended instance is still listed (its reason readable), as clouds do.
const endedKept = 10 * time.Minute

func (p *simProvider) Launch(_ context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	if got, ok := p.byToken[req.Token]; ok && req.Token != "" {
		return publicOf(got), nil
	}
	now := p.r.now
	// The cycle's observe calls came before this launch; the ideal launcher has no cycle.
	delay := p.r.cfg.CycleTime
	if p.r.cfg.Policy.Ideal {
		delay = 0
	}
	var out []*instance
	for _, a := range req.Agents {
		p.nextID++
		tags := maps.Clone(req.Tags)
		tags[provider.TagAgent] = a.Name
		in := &instance{
			Instance: provider.Instance{ID: fmt.Sprintf("i-%07d", p.nextID), Pool: req.Pool, AgentName: a.Name,
				State: provider.StateRunning, Tags: tags, LaunchedAt: now},
			boot: p.r.bootForLaunch(req.Pool),
		}
		p.insts[in.ID] = in
		p.order = append(p.order, in)
		out = append(out, in)
		p.r.q.schedule(&event{at: now.Add(delay + in.boot), kind: evBoot, inst: in.ID})
		if rate := p.r.cfg.SpotRate; rate > 0 {
			after := time.Duration(p.r.rnd.ExpFloat64() / rate * float64(time.Hour))
			p.r.q.schedule(&event{at: now.Add(after), kind: evInterrupt, inst: in.ID})
		}
	}
	p.byToken[req.Token] = out
	p.r.res.Instances += len(out)
	return publicOf(out), nil
}

func publicOf(ins []*instance) []provider.Instance {
	out := make([]provider.Instance, len(ins))
	for i, in := range ins {
		out[i] = in.Instance
		out[i].Tags = maps.Clone(in.Tags)
	}
	return out
}

// Terminate stops instances: their agent's process is killed with them.
func (p *simProvider) Terminate(_ context.Context, ids []string) error {
	for _, id := range ids {
		if in := p.insts[id]; in != nil && in.State.Alive() {
			p.r.killAgent(in, "terminated")
		}
	}
	return nil
}

// List returns the pool's live instances and those that ended within endedKept.
func (p *simProvider) List(_ context.Context, pool string) ([]provider.Instance, error) {
	now := p.r.now
	var out []provider.Instance
	kept := p.order[:0]
	for _, in := range p.order {
		if !in.State.Alive() && now.Sub(in.endedAt) > endedKept {
			continue // forgotten by the cloud
		}
		kept = append(kept, in)
		if in.Pool == pool {
			pub := in.Instance
			pub.Tags = maps.Clone(in.Tags)
			out = append(out, pub)
		}
	}
	p.order = kept
	return out, nil
}

// end marks in ended now and books its lifetime.
func (p *simProvider) end(in *instance, reason string) {
	if !in.State.Alive() {
		return
	}
	in.State, in.Reason, in.endedAt = provider.StateTerminated, reason, p.r.now
	p.r.res.instanceTime += in.endedAt.Sub(in.LaunchedAt)
}
