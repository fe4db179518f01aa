package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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

// localAgents is the providers section that runs agents as local processes of this test binary
// (agent-sim) in the harness's work directory; a config says {localAgents} for it.
const localAgents = `providers:
  local:
    command: [{exe}, agent-sim]
    workDir: {agents}`

// writeConfig writes the YAML config to the harness directory and returns its path. The
// placeholders {sim}, {state}, {exe} (this test binary, which runs agent-sim) and {agents} are
// replaced by the simulator's URL, the SQLite path, the executable and a work directory, and
// {localAgents} by the section of that name; extra holds further placeholder, value pairs.
func (h *simHarness) writeConfig(t *testing.T, yaml string, extra ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	yaml = strings.ReplaceAll(yaml, "{localAgents}", localAgents)
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

// reconcileLine is a sample of the pool "build"'s reconcile counter in a /metrics page.
var reconcileLine = regexp.MustCompile(`(?m)^adofleet_reconcile_total\{[^}]*pool="build"[^}]*\} ([0-9.e+]+)$`)

// reconciles sums the pool "build"'s reconcile counter, every outcome, in a /metrics page.
func reconciles(t *testing.T, page string) float64 {
	t.Helper()
	var sum float64
	for _, m := range reconcileLine.FindAllStringSubmatch(page, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("metric value %q: %v", m[1], err)
		}
		sum += v
	}
	return sum
}

// waitReconciles waits until the pool "build" has been reconciled n more times, reading /metrics
// with page: long enough for the controller to have acted on whatever came before.
func (s *serving) waitReconciles(t *testing.T, ctx context.Context, n int, page func() string) {
	t.Helper()
	after := reconciles(t, page())
	s.waitFor(t, ctx, fmt.Sprintf("%d more reconcile cycles", n), func() bool { return reconciles(t, page()) >= after+float64(n) })
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

// request is one HTTP call to serve: who it claims to come from (X-Forwarded-For, believed where
// the test's loopback address is a trusted proxy) and what it carries.
type request struct {
	method, path string
	from         string            // X-Forwarded-For; "" sends none
	headers      map[string]string // Authorization, the shared secret, a check's fields...
	body         string
}

// do sends r to base+r.path and returns the status, the headers and the body (its first MiB).
func (r request) do(t *testing.T, ctx context.Context, base string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.from != "" {
		req.Header.Set("X-Forwarded-For", r.from)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", r.method, base, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && !strings.Contains(err.Error(), "closed") {
		t.Fatalf("%s %s%s: read the answer: %v", r.method, base, r.path, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// basicToken is the credentials part of a Basic Authorization header.
func basicToken(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
