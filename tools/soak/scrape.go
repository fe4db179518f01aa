package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sample is one scrape of the demo's /metrics.
type Sample struct {
	Seconds         float64 // since the first sample
	Goroutines      float64 // go_goroutines
	HeapInuse       float64 // go_memstats_heap_inuse_bytes
	RSS             float64 // process_resident_memory_bytes
	FDs             float64 // process_open_fds
	JobsQueued      float64 // adofleet_demo_jobs_queued_total
	JobsFinished    float64 // adofleet_demo_jobs_finished_total, every result
	JobsFailed      float64 // adofleet_demo_jobs_finished_total{result="failed"}
	JobsUnfinished  float64 // adofleet_demo_jobs_unfinished
	RanTwice        float64 // adofleet_demo_jobs_ran_twice_total
	ReconcileOK     float64 // adofleet_reconcile_total{outcome="ok"}
	ReconcileErrors float64 // adofleet_reconcile_total{outcome="error"}
	ADOErrors       float64 // adofleet_ado_requests_total with a code other than 2xx
	Faults          float64 // adofleet_demo_faults_injected_total, every kind
	Agents          float64 // adofleet_demo_agent_processes
	// On disk, from the demo's --state-dir (reported, not judged: see diskSample).
	AgentDirs float64 // working directories under agents/
	DBBytes   float64 // the SQLite file with its WAL and shared-memory files
}

// csvHeader names the columns of Sample.row.
var csvHeader = []string{"seconds", "goroutines", "heap_inuse_bytes", "rss_bytes", "open_fds",
	"jobs_queued", "jobs_finished", "jobs_failed", "jobs_unfinished", "jobs_ran_twice",
	"reconcile_ok", "reconcile_errors", "ado_errors", "faults_injected", "agent_processes",
	"agent_dirs", "db_bytes"}

func (s Sample) row() []string {
	vals := []float64{s.Seconds, s.Goroutines, s.HeapInuse, s.RSS, s.FDs, s.JobsQueued, s.JobsFinished,
		s.JobsFailed, s.JobsUnfinished, s.RanTwice, s.ReconcileOK, s.ReconcileErrors, s.ADOErrors, s.Faults, s.Agents,
		s.AgentDirs, s.DBBytes}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return out
}

// series is one line of the Prometheus text format.
type series struct {
	name, labels string
	value        float64
}

// parseMetrics reads the Prometheus text exposition format: enough of it for the samples (name,
// the raw label set, value; comments and timestamps skipped).
func parseMetrics(r io.Reader) ([]series, error) {
	var out []series
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var s series
		rest := line
		if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
			j := strings.LastIndex(line, "}")
			if j < i {
				return nil, fmt.Errorf("metrics line %q: unterminated label set", line)
			}
			s.name, s.labels, rest = line[:i], line[i+1:j], strings.TrimSpace(line[j+1:])
		} else if i >= 0 {
			s.name, rest = line[:i], strings.TrimSpace(line[i+1:])
		} else {
			return nil, fmt.Errorf("metrics line %q: no value", line)
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics line %q: no value", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: value: %w", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

// sum adds the values of the series named name whose labels satisfy keep (nil keeps all).
func sum(all []series, name string, keep func(labels string) bool) float64 {
	var t float64
	for _, s := range all {
		if s.name == name && (keep == nil || keep(s.labels)) {
			t += s.value
		}
	}
	return t
}

func has(sub string) func(string) bool {
	return func(labels string) bool { return strings.Contains(labels, sub) }
}

// toSample picks the soak's series out of one scrape.
func toSample(all []series) Sample {
	return Sample{
		Goroutines:      sum(all, "go_goroutines", nil),
		HeapInuse:       sum(all, "go_memstats_heap_inuse_bytes", nil),
		RSS:             sum(all, "process_resident_memory_bytes", nil),
		FDs:             sum(all, "process_open_fds", nil),
		JobsQueued:      sum(all, "adofleet_demo_jobs_queued_total", nil),
		JobsFinished:    sum(all, "adofleet_demo_jobs_finished_total", nil),
		JobsFailed:      sum(all, "adofleet_demo_jobs_finished_total", has(`result="failed"`)),
		JobsUnfinished:  sum(all, "adofleet_demo_jobs_unfinished", nil),
		RanTwice:        sum(all, "adofleet_demo_jobs_ran_twice_total", nil),
		ReconcileOK:     sum(all, "adofleet_reconcile_total", has(`outcome="ok"`)),
		ReconcileErrors: sum(all, "adofleet_reconcile_total", has(`outcome="error"`)),
		ADOErrors:       sum(all, "adofleet_ado_requests_total", func(l string) bool { return !strings.Contains(l, `code="2`) }),
		Faults:          sum(all, "adofleet_demo_faults_injected_total", nil),
		Agents:          sum(all, "adofleet_demo_agent_processes", nil),
	}
}

// diskSample adds what the demo keeps on disk under stateDir. The SQLite store is judged (see
// Limits); the agents' directories are only reported: the local provider keeps an ended agent's
// directory for its retention (10 minutes), so the count climbs for longer than the warm-up
// before it levels off.
func diskSample(s *Sample, stateDir string) {
	if entries, err := os.ReadDir(filepath.Join(stateDir, "agents")); err == nil {
		s.AgentDirs = float64(len(entries))
	}
	matches, _ := filepath.Glob(filepath.Join(stateDir, "adofleet.db*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			s.DBBytes += float64(fi.Size())
		}
	}
}

// scrape fetches and reads url once.
func scrape(ctx context.Context, client *http.Client, url string) (Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Sample{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Sample{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sample{}, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	all, err := parseMetrics(resp.Body)
	if err != nil {
		return Sample{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	return toSample(all), nil
}
