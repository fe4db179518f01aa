package faultinject

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

// LateStarter is implemented by providers that can hold an instance in StatePending, so that a
// late launch is a late instance rather than a slow call (fake.Provider implements it).
type LateStarter interface {
	DelayStart(id string, d time.Duration) error
}

// Interrupter is implemented by providers that can end an instance on the cloud's own initiative,
// as a spot interruption does (fake.Provider implements it). Without it a loss is a Terminate.
type Interrupter interface {
	Interrupt(id, reason string) error
}

// LossReason is the Reason of an instance the injector lost.
const LossReason = "spot interruption (injected)"

// Provider wraps p with r's provider faults for seed. Use New(seed, r).Provider(p) to read the
// counts.
func Provider(p provider.Provider, seed int64, r Rates) provider.Provider {
	return New(seed, r).Provider(p)
}

// Provider wraps p. Per Launch call, at Rates.LaunchFail it fails in one of four ways (a quarter
// each): insufficient capacity before starting anything, a transient error before starting
// anything, a partial failure (the last agent of a batch of two or more is not started), or a
// lost response (everything started, an error returned). At Rates.LaunchLate the instances start
// Rates.LateBy late: held pending if p is a LateStarter, else the call itself takes that long. Per
// Terminate call, at Rates.TerminateFail it fails before or after stopping the instances. Per List
// call, each alive instance listed is lost at Rates.InstanceLoss (Interrupt if p is an
// Interrupter, else Terminate) and comes back StateTerminated with LossReason.
func (in *Injector) Provider(p provider.Provider) provider.Provider {
	return &faultyProvider{in: in, next: p, s: in.stream(streamProvider)}
}

type faultyProvider struct {
	in   *Injector
	next provider.Provider
	s    *stream
}

var _ provider.Provider = (*faultyProvider)(nil)

func (p *faultyProvider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	r := p.in.rates
	u, kind := p.s.float(), p.s.intN(4)
	if !p.in.Enabled() || u >= r.LaunchFail+r.LaunchLate {
		return p.next.Launch(ctx, req)
	}
	what := fmt.Sprintf("launch %d agent(s) in pool %s", len(req.Agents), req.Pool)
	if u >= r.LaunchFail {
		return p.launchLate(ctx, req, what)
	}
	if kind == 2 && len(req.Agents) < 2 {
		kind = 0
	}
	switch kind {
	case 0:
		p.in.count(FaultLaunchBefore)
		return nil, fmt.Errorf("%s: %w: %w", what, provider.ErrInsufficientCapacity, ErrInjected)
	case 1:
		p.in.count(FaultLaunchBefore)
		return nil, fmt.Errorf("%s: throttled by the cloud API: %w", what, ErrInjected)
	case 2:
		return p.launchPartial(ctx, req, what)
	default:
		insts, err := p.next.Launch(ctx, req)
		if err != nil {
			return insts, err
		}
		p.in.count(FaultLaunchAfter)
		return nil, fmt.Errorf("%s: response lost after the instances started: %w", what, ErrInjected)
	}
}

// launchPartial starts all agents but the last and reports the last as failed for capacity.
func (p *faultyProvider) launchPartial(ctx context.Context, req provider.LaunchRequest, what string) ([]provider.Instance, error) {
	last := req.Agents[len(req.Agents)-1]
	sub := req
	sub.Agents = req.Agents[:len(req.Agents)-1]
	insts, err := p.next.Launch(ctx, sub)
	failed := map[string]error{}
	var pe *provider.PartialError
	if errors.As(err, &pe) {
		maps.Copy(failed, pe.Failed)
	} else if err != nil {
		return insts, err
	}
	p.in.count(FaultLaunchPartial)
	failed[last.Name] = fmt.Errorf("%s: agent %q: %w: %w", what, last.Name, provider.ErrInsufficientCapacity, ErrInjected)
	return insts, &provider.PartialError{Failed: failed}
}

// launchLate starts the instances LateBy late.
func (p *faultyProvider) launchLate(ctx context.Context, req provider.LaunchRequest, what string) ([]provider.Instance, error) {
	late := p.in.rates.LateBy
	ls, ok := p.next.(LateStarter)
	if !ok {
		t := time.NewTimer(late)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: slow provider call: %w", what, ctx.Err())
		case <-t.C:
		}
		p.in.count(FaultLaunchLate)
		return p.next.Launch(ctx, req)
	}
	insts, err := p.next.Launch(ctx, req)
	for i := range insts {
		if derr := ls.DelayStart(insts[i].ID, late); derr == nil {
			insts[i].State = provider.StatePending
		}
	}
	if len(insts) > 0 {
		p.in.count(FaultLaunchLate)
	}
	return insts, err
}

func (p *faultyProvider) Terminate(ctx context.Context, ids []string) error {
	u, after := p.s.float(), p.s.intN(2) == 1
	if !p.in.Enabled() || u >= p.in.rates.TerminateFail {
		return p.next.Terminate(ctx, ids)
	}
	what := fmt.Sprintf("terminate %d instance(s)", len(ids))
	if !after {
		p.in.count(FaultTerminateBefore)
		return fmt.Errorf("%s: %w", what, ErrInjected)
	}
	if err := p.next.Terminate(ctx, ids); err != nil {
		return err
	}
	p.in.count(FaultTerminateAfter)
	return fmt.Errorf("%s: response lost after the instances stopped: %w", what, ErrInjected)
}

func (p *faultyProvider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	insts, err := p.next.List(ctx, pool)
	if err != nil {
		return insts, err
	}
	for i := range insts {
		if !insts[i].State.Alive() || !p.in.hit(p.s, p.in.rates.InstanceLoss) {
			continue
		}
		if lerr := p.lose(ctx, insts[i].ID); lerr != nil {
			return nil, fmt.Errorf("faultinject: lose instance %s: %w", insts[i].ID, lerr)
		}
		p.in.count(FaultInstanceLoss)
		insts[i].State, insts[i].Reason = provider.StateTerminated, LossReason
	}
	return insts, nil
}

func (p *faultyProvider) lose(ctx context.Context, id string) error {
	if ir, ok := p.next.(Interrupter); ok {
		return ir.Interrupt(id, LossReason)
	}
	return p.next.Terminate(ctx, []string{id})
}
