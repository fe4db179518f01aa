package main

import (
	"context"
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

	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	org := h.org
	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
controller:
  id: serve-test
  resync: 300ms
  logLevel: info
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
{localAgents}
pools:
  - name: build
    provider: local
    max: 4
    idleTimeout: 2s
    registrationTimeout: 1m
    capabilities:
      Agent.OS: Linux
`)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := startServe(t, ctx, cfgPath)
	base := run.dashboardURL(t, ctx)

	const jobs = 8
	run.queueAfterPlaceholder(t, ctx, org, "build", jobs, adosim.JobSpec{Demands: []string{"Agent.OS -equals Linux"}, Duration: 100 * time.Millisecond})
	run.waitFor(t, ctx, "every job finished and the pool back to its placeholder", func() bool {
		return allJobsFinished(org) && len(org.Agents("build")) == 1
	})
	if body := get(t, base+"/readyz"); !strings.HasPrefix(body, "ok") {
		t.Errorf("/readyz = %q, want ok", body)
	}
	stderr := run.shutdown(t)

	checkJobsSucceededOnce(t, org, jobs)
	if strings.Contains(stderr, pat) {
		t.Error("serve logged the PAT")
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
