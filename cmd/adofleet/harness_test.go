package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// simHarness is the ADO simulator (one org, one pool, a PAT) over loopback and a temporary
// directory for the config file, the SQLite state and local agents' work dirs.
type simHarness struct {
	org *adosim.Org
	sim *adosim.Running
	dir string
}

// newSimHarness starts the simulator with pool, accepting opts.PAT; it is closed when the test ends.
func newSimHarness(t *testing.T, pool string, opts adosim.ServerOptions) *simHarness {
	t.Helper()
	org := adosim.NewOrg(adosim.OrgOptions{Name: "contoso"})
	if _, err := org.AddPool(pool); err != nil {
		t.Fatal(err)
	}
	sim, err := adosim.NewServer(org, opts).Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return &simHarness{org: org, sim: sim, dir: t.TempDir()}
}

// writeConfig writes the YAML config to the harness directory and returns its path. The
// placeholders {sim}, {state}, {exe} (this test binary, which runs agent-sim) and {agents} are
// replaced by the simulator's URL, the SQLite path, the executable and a work directory; extra
// holds further placeholder, value pairs.
func (h *simHarness) writeConfig(t *testing.T, yaml string, extra ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pairs := append([]string{
		"{sim}", h.sim.URL,
		"{state}", filepath.Join(h.dir, "state.db"),
		"{exe}", strconv.Quote(exe),
		"{agents}", filepath.Join(h.dir, "agents"),
	}, extra...)
	yaml = strings.NewReplacer(pairs...).Replace(yaml)
	path := filepath.Join(h.dir, "adofleet.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serving is `adofleet serve -c FILE` running in the background.
type serving struct {
	*cliRun
	stop context.CancelFunc
}

// startServe runs serve on cfgPath under ctx; it is stopped when the test ends at the latest.
func startServe(t *testing.T, ctx context.Context, cfgPath string) *serving {
	t.Helper()
	serveCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	return &serving{cliRun: startCLI(serveCtx, "serve", "-c", cfgPath), stop: stop}
}

// waitFor polls cond until it holds, failing the test when ctx ends or serve stops first.
func (s *serving) waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case err := <-s.done:
			s.done <- err // leave it for shutdown
			t.Fatalf("serve stopped while waiting for %s: %v\nstderr:\n%s", what, err, s.err.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// shutdown stops serve and fails the test unless it returned cleanly; it returns serve's stderr.
func (s *serving) shutdown(t *testing.T) string {
	t.Helper()
	s.stop()
	if err := <-s.done; err != nil {
		t.Fatalf("serve returned %v\nstderr:\n%s", err, s.err.String())
	}
	return s.err.String()
}

// queueAfterPlaceholder waits for pool's placeholder agent, then queues n jobs of spec: ADO fails
// jobs queued on a pool with no agent at all.
func (s *serving) queueAfterPlaceholder(t *testing.T, ctx context.Context, org *adosim.Org, pool string, n int, spec adosim.JobSpec) {
	t.Helper()
	s.waitFor(t, ctx, "placeholder agent", func() bool { return len(org.Agents(pool)) == 1 })
	for range n {
		if _, err := org.QueueJob(pool, spec); err != nil {
			t.Fatal(err)
		}
	}
}

// checkJobsSucceededOnce fails the test unless org has want jobs, each succeeded on its first start.
func checkJobsSucceededOnce(t *testing.T, org *adosim.Org, want int) {
	t.Helper()
	if got := len(org.Jobs()); got != want {
		t.Errorf("jobs = %d, want %d", got, want)
	}
	for _, j := range org.Jobs() {
		if j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: result %q, started %d times; want succeeded once", j.RequestID, j.Result, j.Starts)
		}
	}
}

// allJobsFinished reports whether every job of org has finished.
func allJobsFinished(org *adosim.Org) bool {
	for _, j := range org.Jobs() {
		if j.State != adosim.JobFinished {
			return false
		}
	}
	return true
}
