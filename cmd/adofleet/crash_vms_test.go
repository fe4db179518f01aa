//go:build unix

package main

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
)

// crashBootTime is how long a machine takes to boot before its agent starts: long enough that a
// restarted controller finds instances whose agents have not registered yet, as on real EC2.
const crashBootTime = 300 * time.Millisecond

// crashVMs plays the machines of the crash tests: each instance the EC2 fake starts runs the
// simulated agent its user data describes, in the test process, so machines and agents live on
// while the controller is killed. It records what the invariants need: how often each agent
// name was started, and any instance terminated while its agent was busy.
type crashVMs struct {
	org  *adosim.Org
	pool string

	mu         sync.Mutex
	cancels    map[string]context.CancelFunc // instance id -> its agent
	starts     map[string]int                // agent name -> machines that started it
	broken     int                           // the next instances to boot without an agent
	busyKilled []string                      // "instance i-... (agent x, job n)"
	errs       []error
	wg         sync.WaitGroup
}

func newCrashVMs(t *testing.T, fake *ec2fake.Server, org *adosim.Org, pool, token string) *crashVMs {
	v := &crashVMs{org: org, pool: pool, cancels: map[string]context.CancelFunc{}, starts: map[string]int{}}
	fake.SetHooks(ec2fake.Hooks{
		OnRunInstances: func(in ec2fake.Instance) { v.boot(fake, in, token) },
		OnTerminate:    v.terminated,
	})
	t.Cleanup(v.stopAll)
	return v
}

// breakNext makes the next n instances boot without starting their agent (a bad image), so the
// controller must find them orphaned after the registration timeout.
func (v *crashVMs) breakNext(n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.broken = n
}

func (v *crashVMs) boot(fake *ec2fake.Server, in ec2fake.Instance, token string) {
	name := in.Tags["adofleet:agent"]
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.broken > 0 {
		v.broken--
		return
	}
	env, err := userDataEnv(in.UserData)
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("instance %s: %w", in.ID, err))
		return
	}
	opts, err := ec2AgentOptions(env, name, token)
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("instance %s: %w", in.ID, err))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancels[in.ID] = cancel
	v.starts[name]++
	v.wg.Go(func() {
		select {
		case <-ctx.Done():
			return // terminated while booting
		case <-time.After(crashBootTime):
		}
		_ = adosim.RunAgent(ctx, opts)
		if ctx.Err() == nil { // the agent finished on its own: the user data powers off
			ec2PowerOff(fake, in.ID)
		}
	})
}

// terminated stops the instance's agent, first noting whether ADO still had a job on it.
func (v *crashVMs) terminated(in ec2fake.Instance) {
	name := in.Tags["adofleet:agent"]
	for _, a := range v.org.Agents(v.pool) {
		if a.Name == name && a.State == adosim.AgentBusy {
			v.mu.Lock()
			v.busyKilled = append(v.busyKilled, fmt.Sprintf("instance %s (agent %s, job %d)", in.ID, name, a.AssignedRequest))
			v.mu.Unlock()
		}
	}
	v.mu.Lock()
	cancel := v.cancels[in.ID]
	v.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// report returns a copy of what was recorded.
func (v *crashVMs) report() (starts map[string]int, busyKilled []string, errs []error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return maps.Clone(v.starts), append([]string(nil), v.busyKilled...), append([]error(nil), v.errs...)
}

func (v *crashVMs) stopAll() {
	v.mu.Lock()
	for _, c := range v.cancels {
		c()
	}
	v.mu.Unlock()
	v.wg.Wait()
}
