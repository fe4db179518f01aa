package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDemoRejectsBadSoakFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--faults", "ado429=2"}, "--faults"},
		{[]string{"--faults", "nosuchfault=0.1"}, "unknown key"},
		{[]string{"--duration", "-1s"}, "--duration"},
		{[]string{"--duration", "1m", "--jobs", "5"}, "not with --jobs"},
		{[]string{"--gone-retention", "-1m"}, "--gone-retention"},
		{[]string{"--capacity-backoff", "-1s"}, "--capacity-backoff"},
		{[]string{"--housekeeping-interval", "0s"}, "--housekeeping-interval"},
		{[]string{"--housekeeping-decisions", "-1"}, "--housekeeping-decisions"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, _, err := runCLI(context.Background(), append([]string{"demo", "--listen", "off"}, tt.args...)...)
			var ec exitCodeError
			if !asExit(err, &ec) || ec.code != 2 {
				t.Fatalf("err = %v, want exit code 2", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// TestDemoSoakRun is a miniature soak: a --duration run with faults at high rates, /metrics
// exporting the jobs and the faults, pprof served, store housekeeping running on the interval the
// flag sets (its default, 10 minutes, would not run in this run), and the summary counting the
// whole run. Whether a pass deletes decisions depends on how many cycles a loaded machine fits in
// 6 s; the pruning itself is tested in internal/housekeep and the stores.
func TestDemoSoakRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agent processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := startCLI(ctx, "demo", "--duration", "6s", "--listen", "127.0.0.1:0", "--pprof",
		// No launch failures: a quarter of them are "insufficient capacity", which pauses the
		// pool's launches for two minutes, longer than this run.
		"--faults", "ado429=0.1,ado500=0.1,adolost=0.05,terminatefail=0.2,loss=0.02,storefail=0.1,retryafter=1s",
		"--rate", "20", "--min-duration", "50ms", "--max-duration", "200ms", "--max", "10",
		"--resync", "300ms", "--boot-time", "100ms", "--idle-timeout", "1s", "--log-level", "info",
		"--housekeeping-interval", "1s", "--housekeeping-decisions", "1", "--state-dir", t.TempDir())
	base := run.dashboardURL(t, ctx)
	if got := get(t, base+"/debug/pprof/"); !strings.Contains(got, "goroutine") {
		t.Errorf("/debug/pprof/ with --pprof: got %.200q, want the profile index", got)
	}
	// A pass ran: it succeeded, or a store write it made failed (storefail).
	housekept := regexp.MustCompile(`adofleet_housekeeping_last_success_timestamp_seconds [1-9]|adofleet_housekeeping_failures_total\{[^}]*\} [1-9]`)
	var metrics string
	for metrics == "" || !strings.Contains(metrics, "adofleet_demo_faults_injected_total{") || !housekept.MatchString(metrics) {
		select {
		case <-ctx.Done():
			t.Fatalf("no fault, or no housekeeping pass, counted on /metrics before the deadline; last scrape:\n%s", metrics)
		case <-time.After(200 * time.Millisecond):
		}
		metrics = get(t, base+"/metrics")
	}
	for _, name := range []string{"adofleet_demo_jobs_queued_total", `adofleet_demo_jobs_finished_total{result="succeeded"}`, "adofleet_demo_agent_processes"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if err := <-run.done; err != nil {
		t.Fatalf("demo failed: %v\nstderr:\n%s", err, run.err.String())
	}
	m := regexp.MustCompile(`(\d+) jobs queued, (\d+) succeeded, (\d+) failed, (\d+) unfinished, (\d+) ran twice`).FindStringSubmatch(run.out.String())
	if m == nil {
		t.Fatalf("summary: got %q, want the jobs line", run.out.String())
	}
	n := make([]int, 5)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	if got, want := n[1]+n[2]+n[3], n[0]; got != want {
		t.Errorf("succeeded+failed+unfinished = %d, want every queued job (%d) accounted for", got, want)
	}
	if n[1] == 0 {
		t.Error("no job succeeded under faults")
	}
	if n[4] != 0 {
		t.Errorf("%d jobs ran twice, want 0", n[4])
	}
	if !strings.Contains(run.out.String(), "faults injected") {
		t.Errorf("summary: got %q, want the faults injected", run.out.String())
	}
}
