package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// TestServeTwoReplicas runs two `adofleet serve` replicas with leader election on one SQLite
// file against the simulator: only the leader is ready and runs the pool; when it stops the
// other takes over, and every job of both phases runs exactly once.
func TestServeTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agent processes")
	}
	const pat = "serve-ha-test-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_PAT", pat)
	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
controller:
  id: serve-ha
  resync: 300ms
  leaderElection:
    enabled: true
    leaseDuration: 3s
    renewDeadline: 2s
    retryPeriod: 100ms
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
{localAgents}
pools:
  - name: build
    provider: local
    max: 3
    idleTimeout: 1s
    registrationTimeout: 1m
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	readyz := func(base string) string { return get(t, base+"/readyz") }

	a := startServe(t, ctx, cfgPath)
	baseA := a.dashboardURL(t, ctx)
	a.waitFor(t, ctx, "a ready", func() bool { return strings.HasPrefix(readyz(baseA), "ok") })
	b := startServe(t, ctx, cfgPath)
	baseB := b.dashboardURL(t, ctx)
	b.waitFor(t, ctx, "b campaigning", func() bool { return strings.Contains(b.err.String(), "campaigning for leadership") })
	if got := readyz(baseB); !strings.Contains(got, "not the leader") {
		t.Errorf("b's /readyz = %q, want not ready: not the leader", got)
	}

	const jobs = 4
	spec := adosim.JobSpec{Duration: 100 * time.Millisecond}
	a.queueAfterPlaceholder(t, ctx, h.org, "build", jobs, spec)
	a.waitFor(t, ctx, "the first jobs finished", func() bool { return allJobsFinished(h.org) })
	if got := readyz(baseB); !strings.Contains(got, "not the leader") {
		t.Errorf("b's /readyz while a leads = %q, want not the leader", got)
	}

	a.shutdown(t) // releases the lease
	b.waitFor(t, ctx, "b ready", func() bool { return strings.HasPrefix(readyz(baseB), "ok") })
	for range jobs {
		if _, err := h.org.QueueJob("build", spec); err != nil {
			t.Fatal(err)
		}
	}
	b.waitFor(t, ctx, "the jobs after the failover finished", func() bool { return allJobsFinished(h.org) })
	stderr := b.shutdown(t)
	checkJobsSucceededOnce(t, h.org, 2*jobs)
	if !strings.Contains(stderr, "became leader") {
		t.Errorf("b never logged that it became leader; stderr:\n%s", stderr)
	}
}
