package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDemoRunsEveryJobOnce is the walking skeleton's acceptance test: `adofleet demo --jobs 200`
// with the real simulator over HTTP, the real controller, SQLite and local agent processes. Every
// job must run exactly once, by an agent that was then removed from the pool.
func TestDemoRunsEveryJobOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 200 agent processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := startCLI(ctx, "demo", "--jobs", "200", "--json", "--listen", "127.0.0.1:0",
		"--rate", "40", "--min-duration", "50ms", "--max-duration", "300ms", "--max", "20",
		"--resync", "500ms", "--boot-time", "200ms", "--idle-timeout", "2s", "--log-level", "info", "--state-dir", t.TempDir())
	base := run.dashboardURL(t, ctx)

	// While it runs, the dashboard API and the metrics must answer with the demo's pool.
	sawPool, sawMetric := false, false
	var err error
wait:
	for {
		select {
		case err = <-run.done:
			break wait
		case <-time.After(200 * time.Millisecond):
			if !sawPool {
				sawPool = strings.Contains(get(t, base+"/api/status"), `"name":"demo"`)
			}
			if !sawMetric {
				sawMetric = strings.Contains(get(t, base+"/metrics"), "adofleet_reconcile_total")
			}
		}
	}
	if err != nil {
		t.Fatalf("demo failed: %v\nstdout:\n%s\nstderr:\n%s", err, run.out.String(), run.err.String())
	}
	var s demoSummary
	if err := json.Unmarshal([]byte(run.out.String()), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, run.out.String())
	}
	if !s.OK || s.Jobs != 200 || s.Succeeded != 200 || s.Lost != 0 || s.RanTwice != 0 || s.AgentsLeft != 0 {
		t.Errorf("summary = %+v, want 200 jobs succeeded once each and no agent left", s)
	}
	if s.AgentsLaunched < 200 {
		t.Errorf("agents launched = %d, want at least 200 (one job per agent)", s.AgentsLaunched)
	}
	if s.MaxWaitSeconds < s.P95WaitSeconds || s.MeanWaitSeconds > s.MaxWaitSeconds {
		t.Errorf("wait statistics out of order: %+v", s)
	}
	if !sawPool {
		t.Error("the dashboard's /api/status never showed the demo pool")
	}
	if !sawMetric {
		t.Error("/metrics never showed adofleet_reconcile_total")
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	t.Parallel()
	_, _, err := runCLI(context.Background(), "demo", "--rate", "0", "--max", "0", "--listen", "off")
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
	for _, want := range []string{"--rate", "--max"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestDemoWithStandbyFinishes checks that a --jobs run with standby agents ends once only the
// standby agents are left, and that they are not reported as leftovers.
func TestDemoWithStandbyFinishes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agent processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, errOut, err := runCLI(ctx, "demo", "--jobs", "12", "--json", "--listen", "off", "--standby", "2",
		"--rate", "20", "--min-duration", "50ms", "--max-duration", "200ms", "--boot-time", "100ms",
		"--resync", "300ms", "--log-level", "warn", "--state-dir", t.TempDir())
	if err != nil {
		t.Fatalf("demo failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	var s demoSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	if !s.OK || s.Succeeded != 12 || s.AgentsLeft != 0 || s.AgentsLaunched < 14 {
		t.Errorf("summary = %+v, want 12 jobs once each, 2 standby agents launched beyond them, none left over", s)
	}
}
