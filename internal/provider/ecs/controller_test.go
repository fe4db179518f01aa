package ecs_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider/ecs"
	"github.com/adofleet/adofleet/internal/provider/ecs/ecsfake"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

const (
	ctlPool   = "linux"
	ctlPAT    = "test-pat-0123456789"
	ctlDemand = "docker"
)

// TestControllerScalesPoolOnECS runs the real controller with this provider against the ECS fake
// and the ADO simulator: 50 queued jobs on a pool of at most 20, with throttling and partial
// RunTask failures injected. Each task runs a simulated agent that gets AZP_TOKEN the way ECS
// would inject the secret (the controller's plain value never reaches RunTask) and stops when its
// agent exits. It asserts the pool never exceeds max, every job runs exactly once, and nothing is
// left running.
func TestControllerScalesPoolOnECS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a controller against simulated agents")
	}
	t.Parallel()
	ctx := t.Context()
	org := adosim.NewOrg(adosim.OrgOptions{})
	if _, err := org.AddPool(ctlPool); err != nil {
		t.Fatalf("AddPool: %v", err)
	}
	sim := adosim.NewServer(org, adosim.ServerOptions{PAT: ctlPAT, MessagePollTimeout: 200 * time.Millisecond})
	run, err := sim.Start("")
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = run.Close() })
	client, err := ado.New(ado.Options{OrgURL: run.URL, PAT: ctlPAT, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("ado.New: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "adofleet.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	fake := ecsfake.New(ecsfake.Options{Clusters: []string{testCluster}})
	t.Cleanup(fake.Close)
	fake.RegisterTaskDefinition(testFamily, ecsfake.Container{Name: testContainer, Secrets: map[string]string{ecs.TokenEnv: tokenParam}})

	var (
		agentsMu sync.Mutex
		cancels  = map[string]context.CancelFunc{}
		agentsWG sync.WaitGroup
	)
	t.Cleanup(func() {
		agentsMu.Lock()
		for _, c := range cancels {
			c()
		}
		agentsMu.Unlock()
		agentsWG.Wait()
	})
	fake.OnRunTask = func(task ecsfake.Task) {
		env := task.Env[testContainer]
		if _, leaked := env[ecs.TokenEnv]; leaked {
			t.Errorf("task %s got the token as a plain variable", task.ARN)
		}
		opts, err := adosim.AgentOptionsFromEnv(func(k string) string {
			if k == ecs.TokenEnv {
				return ctlPAT // what ECS injects from the task definition's secret
			}
			return env[k]
		})
		if err != nil {
			t.Errorf("task %s: agent options: %v", task.ARN, err)
			return
		}
		opts.PollTimeout = time.Second
		actx, cancel := context.WithCancel(context.Background())
		agentsMu.Lock()
		cancels[task.ARN] = cancel
		agentsMu.Unlock()
		agentsWG.Go(func() {
			err := adosim.RunAgent(actx, opts)
			code, reason := 0, ""
			if err != nil {
				code, reason = 1, err.Error()
			}
			// The task ends with its --once agent.
			_ = fake.StopOnItsOwn(task.ARN, "EssentialContainerExited", "Essential container in task exited", reason, &code)
		})
	}
	fake.OnStopTask = func(task ecsfake.Task) {
		for _, a := range org.Agents(ctlPool) {
			if a.Name == task.Tags["adofleet:agent"] && a.AssignedRequest != 0 {
				t.Errorf("task %s stopped while its agent %s holds job %d", task.ARN, a.Name, a.AssignedRequest)
			}
		}
		agentsMu.Lock()
		cancel := cancels[task.ARN]
		agentsMu.Unlock()
		if cancel != nil {
			cancel()
		}
	}
	// Faults: every 7th task RunTask would create fails for capacity; throttling comes in bursts.
	var runs atomic.Int64
	fake.FailRunTask(func(ecsfake.Task) string {
		if runs.Add(1)%7 == 0 {
			return "RESOURCE:MEMORY"
		}
		return ""
	})

	opts := testOptions()
	opts.Controller = "test"
	prov := newProvider(t, fake, opts)
	policy := scaler.Policy{
		Max: 20, IdleTimeout: time.Millisecond, RegistrationTimeout: 10 * time.Minute,
		OneJobPerAgent: true, Capabilities: map[string]string{ctlDemand: "true"},
	}
	var names atomic.Int64
	c, err := controller.New(controller.Options{
		ControllerID:    "test",
		OrgURL:          run.URL,
		ADO:             client,
		Providers:       controller.ProviderMap{"ecs": prov},
		Store:           st,
		Pools:           []controller.PoolConfig{{Name: ctlPool, Provider: "ecs", Policy: policy}},
		AgentToken:      func() string { return ctlPAT },
		CapacityBackoff: time.Millisecond,
		Logger:          slog.New(slog.DiscardHandler),
		NameFunc:        func(string) string { return fmt.Sprintf("linux-%03d", names.Add(1)) },
	})
	if err != nil {
		t.Fatalf("controller.New: %v", err)
	}
	if err := c.EnsurePlaceholders(ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}

	var ids []int64
	for range 50 {
		id, err := org.QueueJob(ctlPool, adosim.JobSpec{Demands: []string{ctlDemand}, Duration: 10 * time.Millisecond})
		if err != nil {
			t.Fatalf("QueueJob: %v", err)
		}
		ids = append(ids, id)
	}
	live := func() int {
		n := 0
		for _, task := range fake.Tasks() {
			if task.LastStatus != ecsfake.StatusStopped {
				n++
			}
		}
		return n
	}
	done := func() bool {
		for _, id := range ids {
			if j, _ := org.Job(id); j.State != adosim.JobFinished {
				return false
			}
		}
		return live() == 0 && len(org.Agents(ctlPool)) == 1
	}
	maxSeen := 0
	for cycle := 0; !done(); cycle++ {
		if cycle == 1000 {
			t.Fatalf("pool did not drain after %d cycles: %d live tasks, agents %d", cycle, live(), len(org.Agents(ctlPool)))
		}
		if cycle%5 == 0 {
			fake.ThrottleNext(2)
		}
		if _, err := c.ReconcileOnce(ctx, ctlPool); err != nil {
			t.Logf("reconcile: %v", err)
		}
		launching, err := st.ListAgents(ctx, ctlPool, store.StateLaunching)
		if err != nil {
			t.Fatalf("ListAgents: %v", err)
		}
		n := live() + len(launching)
		maxSeen = max(maxSeen, n)
		if n > policy.Max {
			t.Fatalf("live tasks + launching = %d, above max %d", n, policy.Max)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range ids {
		if j, _ := org.Job(id); j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: result %q, started %d times; want succeeded once", id, j.Result, j.Starts)
		}
	}
	failures := runs.Load() - int64(len(fake.Tasks()))
	if failures == 0 {
		t.Errorf("%d RunTask attempts and no failure; the injected capacity failures never fired", runs.Load())
	}
	throttled := 0
	for _, call := range fake.Calls("") {
		if call.Throttled {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("no call was throttled; the fault injection did not run")
	}
	t.Logf("peak live+launching %d of max %d; %d tasks, %d RunTask attempts, %d throttled calls, %d capacity failures",
		maxSeen, policy.Max, len(fake.Tasks()), runs.Load(), throttled, failures)
}
