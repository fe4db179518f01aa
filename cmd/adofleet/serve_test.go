package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// TestServeScalesAPoolFromConfig runs `adofleet serve -c FILE` against the simulator over HTTP: the
// config's PAT comes from an env: reference, agents are local processes, state is a real SQLite
// file. Queued jobs must all run once and the pool must return to its placeholder.
func TestServeScalesAPoolFromConfig(t *testing.T) {
	const pat = "serve-test-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_PAT", pat)

	org := adosim.NewOrg(adosim.OrgOptions{Name: "contoso"})
	if _, err := org.AddPool("build"); err != nil {
		t.Fatal(err)
	}
	sim, err := adosim.NewServer(org, adosim.ServerOptions{PAT: pat}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "adofleet.yaml")
	cfg := fmt.Sprintf(`organization:
  url: %s
  pat: env:ADOFLEET_TEST_PAT
controller:
  id: serve-test
  resync: 300ms
  logLevel: info
store:
  sqlite:
    path: %s
web:
  listen: %s
providers:
  local:
    command: [%q, agent-sim]
    workDir: %s
pools:
  - name: build
    provider: local
    max: 4
    idleTimeout: 2s
    registrationTimeout: 1m
    capabilities:
      Agent.OS: Linux
`, sim.URL, filepath.Join(dir, "state.db"), "127.0.0.1:0", exe, filepath.Join(dir, "agents"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serveCtx, stop := context.WithCancel(ctx)
	run := startCLI(serveCtx, "serve", "-c", cfgPath)
	base := run.dashboardURL(t, ctx)

	// Jobs are queued only once the placeholder exists, as ADO would fail them otherwise.
	waitFor(t, ctx, "placeholder agent", func() bool { return len(org.Agents("build")) == 1 })
	const jobs = 8
	for i := 0; i < jobs; i++ {
		if _, err := org.QueueJob("build", adosim.JobSpec{Demands: []string{"Agent.OS -equals Linux"}, Duration: 100 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, ctx, "every job finished and the pool back to its placeholder", func() bool {
		for _, j := range org.Jobs() {
			if j.State != adosim.JobFinished {
				return false
			}
		}
		return len(org.Agents("build")) == 1
	})
	if body := get(t, base+"/readyz"); !strings.HasPrefix(body, "ok") {
		t.Errorf("/readyz = %q, want ok", body)
	}
	stop()
	if err := <-run.done; err != nil {
		t.Fatalf("serve returned %v\nstderr:\n%s", err, run.err.String())
	}

	for _, j := range org.Jobs() {
		if j.Result != "succeeded" || j.Starts != 1 {
			t.Errorf("job %d: result %q, started %d times; want succeeded once", j.RequestID, j.Result, j.Starts)
		}
	}
	if strings.Contains(run.err.String(), pat) {
		t.Error("serve logged the PAT")
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestServeRejectsAnInvalidConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("organization:\n  url: https://dev.azure.com/x\npools: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(context.Background(), "serve", "-c", path)
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
	if !strings.Contains(stderr, "bad.yaml:") {
		t.Errorf("stderr %q does not point at the file and line", stderr)
	}
}

func TestServeNamesAnUnsetSecret(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cfg.yaml")
	cfg := "organization:\n  url: https://dev.azure.com/x\n  pat: env:ADOFLEET_TEST_UNSET_PAT_X\nproviders:\n  local:\n    command: [/bin/true]\npools:\n  - name: p\n    provider: local\n    max: 1\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCLI(context.Background(), "serve", "-c", path)
	if err == nil || !strings.Contains(err.Error(), "organization.pat") || !strings.Contains(err.Error(), "ADOFLEET_TEST_UNSET_PAT_X") {
		t.Fatalf("err = %v, want it to name organization.pat and the variable", err)
	}
}
