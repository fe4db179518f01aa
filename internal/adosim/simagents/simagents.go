// Package simagents runs a simulated agent (adosim.RunAgent) for every instance the fake provider
// launches, for tests that drive the real controller against the ADO simulator: OnLaunch starts
// the agent from the launch's environment plus the agent name the provider sets, OnTerminate
// stops it, and the instance ends when its agent exits, as a --once container or process does.
package simagents

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
)

// Options configure Attach.
type Options struct {
	Pool        string        // the pool whose agents are checked on terminate
	PollTimeout time.Duration // the agents' message long-poll (default 1s)
	RequireOnce bool          // fail the test if a launch does not ask for one-job agents
	// OnLaunch, if set, is called first for each launched instance (e.g. to record live counts).
	OnLaunch func(inst provider.Instance)
}

// Agents is the set of simulated agents behind a fake provider.
type Agents struct {
	t    testing.TB
	org  *adosim.Org
	opts Options
	mu   sync.Mutex
	stop map[string]context.CancelFunc // instance id -> cancel of its agent
	wg   sync.WaitGroup
}

// Attach installs the hooks on prov and stops every agent when the test ends.
func Attach(t testing.TB, prov *fake.Provider, org *adosim.Org, opts Options) *Agents {
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = time.Second
	}
	a := &Agents{t: t, org: org, opts: opts, stop: map[string]context.CancelFunc{}}
	prov.OnLaunch = func(inst provider.Instance, req provider.LaunchRequest) { a.start(prov, inst, req) }
	prov.OnTerminate = a.terminate
	t.Cleanup(a.stopAll)
	return a
}

func (a *Agents) start(prov *fake.Provider, inst provider.Instance, req provider.LaunchRequest) {
	if a.opts.OnLaunch != nil {
		a.opts.OnLaunch(inst)
	}
	env := maps.Clone(req.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["AZP_AGENT_NAME"] = inst.AgentName
	opts, err := adosim.AgentOptionsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		a.t.Errorf("agent %s: options from env: %v", inst.AgentName, err)
		return
	}
	if a.opts.RequireOnce && !opts.Once {
		a.t.Errorf("agent %s: AZP_ONCE not set for a one-job pool", inst.AgentName)
	}
	opts.PollTimeout = a.opts.PollTimeout
	ctx, cancel := context.WithCancel(context.Background())
	a.mu.Lock()
	a.stop[inst.ID] = cancel
	a.mu.Unlock()
	a.wg.Go(func() {
		err := adosim.RunAgent(ctx, opts)
		reason := "exit 0"
		if err != nil {
			reason = err.Error()
		}
		_ = prov.MarkTerminated(inst.ID, reason)
	})
}

// terminate stops the instance's agent. Terminating the instance of an agent that holds a job
// would break the first invariant of DESIGN.md, so it is checked here, on every terminate.
func (a *Agents) terminate(inst provider.Instance) {
	for _, ag := range a.org.Agents(a.opts.Pool) {
		if ag.Name == inst.AgentName && ag.AssignedRequest != 0 {
			a.t.Errorf("instance %s terminated while its agent %s holds job %d", inst.ID, ag.Name, ag.AssignedRequest)
		}
	}
	a.mu.Lock()
	cancel := a.stop[inst.ID]
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (a *Agents) stopAll() {
	a.mu.Lock()
	for _, cancel := range a.stop {
		cancel()
	}
	a.mu.Unlock()
	a.wg.Wait()
}
