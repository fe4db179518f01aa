package controller_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider/local"
)

// agentEnvVar makes the test binary run as a simulated agent: the local provider's test command.
const agentEnvVar = "ADOFLEET_CONTROLLER_TEST_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(agentEnvVar) == "1" {
		os.Exit(runTestAgent())
	}
	os.Exit(m.Run())
}

// runTestAgent is the agent process: it reads the AZP_* variables the controller and the local
// provider set, exactly as `adofleet agent-sim` does.
func runTestAgent() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	opts, err := adosim.AgentOptionsFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	opts.PollTimeout = time.Second
	if err := adosim.RunAgent(ctx, opts); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestLocalProviderScale runs the pool on the local provider: each agent is a real child process
// (this test binary in agent mode) that registers over HTTP, runs one job and exits.
func TestLocalProviderScale(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts processes")
	}
	policy := testPolicy()
	policy.Max = 2
	h := newHarness(t, policy, false)
	lp, err := local.New(local.Options{
		Command:    []string{os.Args[0]},
		Env:        map[string]string{agentEnvVar: "1"},
		Controller: "test",
	})
	if err != nil {
		t.Fatalf("local.New: %v", err)
	}
	t.Cleanup(func() { _ = lp.Close(context.Background()) })
	h.live = func() int {
		insts, err := lp.List(h.ctx, testPool)
		if err != nil {
			t.Fatalf("local List: %v", err)
		}
		n := 0
		for _, in := range insts {
			if in.State.Alive() {
				n++
			}
		}
		return n
	}
	c := h.newController(h.options(lp))
	if err := c.EnsurePlaceholders(h.ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	ids := h.queue(3, 20*time.Millisecond)
	h.until(c, 500, func() bool {
		for _, id := range ids {
			if j, _ := h.org.Job(id); j.State != adosim.JobFinished {
				return false
			}
		}
		return h.live() == 0 && len(h.org.Agents(testPool)) == 1
	})
	for _, id := range ids {
		if j, _ := h.org.Job(id); j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: result %q, started %d times; want succeeded once", id, j.Result, j.Starts)
		}
	}
	insts, err := lp.List(h.ctx, testPool)
	if err != nil {
		t.Fatalf("local List: %v", err)
	}
	if got, want := len(insts), len(h.records()); got != want || got < len(ids) {
		t.Errorf("local provider ran %d agent processes for %d records and %d jobs", got, want, len(ids))
	}
	for _, in := range insts {
		t.Logf("process %s (%s): %s %s", in.ID, in.AgentName, in.State, in.Reason)
	}
	if got := h.agentNames(); len(got) != 1 || got[0] != controller.PlaceholderName(testPool) {
		t.Errorf("agents left %v, want only the placeholder", got)
	}
}
