// Package fake is an in-memory provider.Provider for controller tests. It records every call, can be
// told to fail, is idempotent per launch token like a real provider, and calls hooks so that a test
// can start a simulated agent for each instance it launches.
package fake

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

var _ provider.Provider = (*Provider)(nil)

// Call is one recorded call and what it returned.
type Call struct {
	Op      string                 // provider.OpLaunch, OpTerminate or OpList
	Request provider.LaunchRequest // Launch only
	IDs     []string               // Terminate only
	Pool    string                 // List only
	Err     error
}

// Provider is the fake. The zero value is not usable; call New. Set the hooks and Now before the
// first call. All methods are safe for concurrent use.
type Provider struct {
	// OnLaunch is called once for each new instance (never for an idempotent replay), after the
	// instance is listed and without the fake's lock held, so it may call back into the fake.
	OnLaunch func(inst provider.Instance, req provider.LaunchRequest)
	// OnTerminate is called once for each running instance that Terminate stops, without the lock.
	OnTerminate func(inst provider.Instance)
	// OnInterrupt is called once for each instance Interrupt ends (a spot interruption), without
	// the lock.
	OnInterrupt func(inst provider.Instance)
	// Now stamps LaunchedAt. Default time.Now (fake time inside a synctest bubble).
	Now func() time.Time

	mu        sync.Mutex
	seq       int
	order     []string // instance IDs in launch order
	instances map[string]*provider.Instance
	// byPool indexes instances by their pool tag, in launch order, so that List and the
	// launch-time duplicate check cost the pool's instances rather than every pool's.
	byPool   map[string][]*provider.Instance
	launches map[string]launchResult // by token
	calls    []Call

	launchErrs    []error // returned by the next Launch calls, in order
	terminateErrs []error
	listErrs      []error
	agentErrs     map[string]error // agent name -> error, until ClearFailures

	startAt map[string]time.Time // instance id -> when a late start (DelayStart) ends
}

type launchResult struct {
	ids    []string
	failed map[string]error
}

// New returns an empty fake.
func New() *Provider {
	return &Provider{
		instances: map[string]*provider.Instance{},
		byPool:    map[string][]*provider.Instance{},
		launches:  map[string]launchResult{},
		agentErrs: map[string]error{},
		startAt:   map[string]time.Time{},
	}
}

// Launch starts an instance per agent, or replays the first result for a known token. Agents told
// to fail with FailAgent, and agents whose name is already running in the pool, come back in a
// *provider.PartialError.
func (p *Provider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	p.mu.Lock()
	call := Call{Op: provider.OpLaunch, Request: cloneRequest(req)}
	if err := pop(&p.launchErrs); err != nil {
		call.Err = err
		p.calls = append(p.calls, call)
		p.mu.Unlock()
		return nil, err
	}
	if res, ok := p.launches[req.Token]; ok && req.Token != "" {
		out := p.snapshotLocked(res.ids)
		err := partial(maps.Clone(res.failed))
		call.Err = err
		p.calls = append(p.calls, call)
		p.mu.Unlock()
		return out, err
	}

	var res launchResult
	var out []provider.Instance
	for _, spec := range req.Agents {
		if err := p.agentErrs[spec.Name]; err != nil {
			res.failed = addFailure(res.failed, spec.Name, fmt.Errorf("fake launch agent %q: %w", spec.Name, err))
			continue
		}
		inst := p.newInstanceLocked(req, spec)
		if p.runningLocked(inst.Pool, spec.Name) {
			res.failed = addFailure(res.failed, spec.Name,
				fmt.Errorf("fake launch agent %q: %w: already running", spec.Name, provider.ErrInvalidRequest))
			continue
		}
		p.instances[inst.ID] = inst
		p.order = append(p.order, inst.ID)
		p.byPool[inst.Pool] = append(p.byPool[inst.Pool], inst)
		res.ids = append(res.ids, inst.ID)
		out = append(out, clone(*inst))
	}
	if req.Token != "" {
		p.launches[req.Token] = res
	}
	err := partial(res.failed)
	call.Err = err
	p.calls = append(p.calls, call)
	hook := p.OnLaunch
	p.mu.Unlock()

	if hook != nil {
		for _, inst := range out {
			hook(clone(inst), cloneRequest(req))
		}
	}
	return out, err
}

func (p *Provider) newInstanceLocked(req provider.LaunchRequest, spec provider.AgentSpec) *provider.Instance {
	tags := maps.Clone(req.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	if tags[provider.TagPool] == "" {
		tags[provider.TagPool] = req.Pool
	}
	if tags[provider.TagToken] == "" && req.Token != "" {
		tags[provider.TagToken] = req.Token
	}
	tags[provider.TagAgent] = spec.Name
	p.seq++
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	return &provider.Instance{
		ID:         fmt.Sprintf("fake-%d", p.seq),
		Pool:       tags[provider.TagPool],
		AgentName:  spec.Name,
		State:      provider.StateRunning,
		Tags:       tags,
		LaunchedAt: now(),
	}
}

func (p *Provider) runningLocked(pool, agent string) bool {
	for _, in := range p.byPool[pool] {
		if in.AgentName == agent && in.State.Alive() {
			return true
		}
	}
	return false
}

// Terminate marks the given running instances terminated with Reason "terminated" and calls
// OnTerminate for each. Unknown and already-ended instances are not errors.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	p.mu.Lock()
	call := Call{Op: provider.OpTerminate, IDs: append([]string(nil), ids...)}
	if err := pop(&p.terminateErrs); err != nil {
		call.Err = err
		p.calls = append(p.calls, call)
		p.mu.Unlock()
		return err
	}
	var stopped []provider.Instance
	for _, id := range ids {
		in, ok := p.instances[id]
		if !ok || in.State == provider.StateTerminated {
			continue
		}
		in.State = provider.StateTerminated
		in.Reason = "terminated"
		stopped = append(stopped, clone(*in))
	}
	p.calls = append(p.calls, call)
	hook := p.OnTerminate
	p.mu.Unlock()

	if hook != nil {
		for _, inst := range stopped {
			hook(inst)
		}
	}
	return nil
}

// List returns the instances tagged for pool, in launch order, ended ones included until MarkLost.
func (p *Provider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	call := Call{Op: provider.OpList, Pool: pool}
	if err := pop(&p.listErrs); err != nil {
		call.Err = err
		p.calls = append(p.calls, call)
		return nil, err
	}
	p.calls = append(p.calls, call)
	p.startLateLocked()
	// Each instance is still a copy with its own tags, as a real provider's decoded answer is.
	in := p.byPool[pool]
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]provider.Instance, len(in))
	for i, inst := range in {
		out[i] = clone(*inst)
	}
	return out, nil
}

func (p *Provider) snapshotLocked(ids []string) []provider.Instance {
	var out []provider.Instance
	for _, id := range ids {
		if in, ok := p.instances[id]; ok {
			out = append(out, clone(*in))
		}
	}
	return out
}

func clone(in provider.Instance) provider.Instance {
	in.Tags = maps.Clone(in.Tags)
	return in
}

func cloneRequest(req provider.LaunchRequest) provider.LaunchRequest {
	req.Agents = append([]provider.AgentSpec(nil), req.Agents...)
	req.Tags = maps.Clone(req.Tags)
	req.Env = maps.Clone(req.Env)
	return req
}

func addFailure(m map[string]error, name string, err error) map[string]error {
	if m == nil {
		m = map[string]error{}
	}
	m[name] = err
	return m
}

func partial(failed map[string]error) error {
	if len(failed) == 0 {
		return nil
	}
	return &provider.PartialError{Failed: failed}
}

func pop(q *[]error) error {
	if len(*q) == 0 {
		return nil
	}
	err := (*q)[0]
	*q = (*q)[1:]
	return err
}
