package fake

import (
	"fmt"
	"slices"

	"github.com/adofleet/adofleet/internal/provider"
)

// FailLaunch makes the next n Launch calls return err and start nothing (their tokens are not
// remembered, so a retry with the same token launches).
func (p *Provider) FailLaunch(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.launchErrs = appendN(p.launchErrs, n, err)
}

// FailTerminate makes the next n Terminate calls return err and stop nothing.
func (p *Provider) FailTerminate(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.terminateErrs = appendN(p.terminateErrs, n, err)
}

// FailList makes the next n List calls return err.
func (p *Provider) FailList(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listErrs = appendN(p.listErrs, n, err)
}

// FailAgent makes every launch of the named agent fail with err (wrapped in a PartialError) until
// ClearFailures. Use provider.ErrInsufficientCapacity to simulate a cloud out of capacity.
func (p *Provider) FailAgent(name string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.agentErrs[name] = err
}

// ClearFailures removes every pending injected failure.
func (p *Provider) ClearFailures() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.launchErrs, p.terminateErrs, p.listErrs = nil, nil, nil
	clear(p.agentErrs)
}

func appendN(q []error, n int, err error) []error {
	for range n {
		q = append(q, err)
	}
	return q
}

// Calls returns every call so far, in order.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, len(p.calls))
	for i, c := range p.calls {
		c.Request = cloneRequest(c.Request)
		c.IDs = slices.Clone(c.IDs)
		out[i] = c
	}
	return out
}

// LaunchRequests returns the request of every Launch call, replays and failures included.
func (p *Provider) LaunchRequests() []provider.LaunchRequest {
	var out []provider.LaunchRequest
	for _, c := range p.Calls() {
		if c.Op == provider.OpLaunch {
			out = append(out, c.Request)
		}
	}
	return out
}

// TerminatedIDs returns the IDs passed to every Terminate call that did not fail, in order.
func (p *Provider) TerminatedIDs() []string {
	var out []string
	for _, c := range p.Calls() {
		if c.Op == provider.OpTerminate && c.Err == nil {
			out = append(out, c.IDs...)
		}
	}
	return out
}

// Instances returns every instance of every pool, in launch order, ended ones included.
func (p *Provider) Instances() []provider.Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startLateLocked()
	return p.snapshotLocked(p.order)
}

// Instance returns the instance with id.
func (p *Provider) Instance(id string) (provider.Instance, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startLateLocked()
	in, ok := p.instances[id]
	if !ok {
		return provider.Instance{}, false
	}
	return clone(*in), true
}

// Running counts the alive instances of pool.
func (p *Provider) Running(pool string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startLateLocked()
	n := 0
	for _, in := range p.instances {
		if in.Pool == pool && in.State.Alive() {
			n++
		}
	}
	return n
}

// SetState sets an instance's state and reason, e.g. to hold it in StatePending.
func (p *Provider) SetState(id string, state provider.State, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[id]
	if !ok {
		return fmt.Errorf("fake set state of %s: %w", id, provider.ErrNotFound)
	}
	in.State, in.Reason = state, reason
	return nil
}

// MarkTerminated ends an instance on its own, as when its agent exits after its one job. It does
// not call OnTerminate, which is for terminations the controller asked for.
func (p *Provider) MarkTerminated(id, reason string) error {
	return p.SetState(id, provider.StateTerminated, reason)
}

// MarkLost makes an instance vanish from List without a trace, as when the cloud loses it.
func (p *Provider) MarkLost(id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[id]
	if !ok {
		return fmt.Errorf("fake mark lost %s: %w", id, provider.ErrNotFound)
	}
	delete(p.instances, id)
	p.byPool[in.Pool] = slices.DeleteFunc(p.byPool[in.Pool], func(x *provider.Instance) bool { return x == in })
	p.order = slices.DeleteFunc(p.order, func(x string) bool { return x == id })
	return nil
}
