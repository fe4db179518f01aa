package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// readCSV reads samples.csv back, for -analyze.
func readCSV(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("samples csv: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("samples csv %s: %w", path, err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], csvHeader) {
		return nil, fmt.Errorf("samples csv %s: want the header %v", path, csvHeader)
	}
	var out []Sample
	for i, row := range rows[1:] {
		if len(row) != len(csvHeader) {
			return nil, fmt.Errorf("samples csv %s: row %d has %d cells, want %d", path, i+2, len(row), len(csvHeader))
		}
		vals := make([]float64, len(row))
		for k, cell := range row {
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return nil, fmt.Errorf("samples csv %s: row %d, %s: %w", path, i+2, csvHeader[k], err)
			}
			vals[k] = v
		}
		out = append(out, Sample{Seconds: vals[0], Goroutines: vals[1], HeapInuse: vals[2], RSS: vals[3], FDs: vals[4],
			JobsQueued: vals[5], JobsFinished: vals[6], JobsFailed: vals[7], JobsUnfinished: vals[8], RanTwice: vals[9],
			ReconcileOK: vals[10], ReconcileErrors: vals[11], ADOErrors: vals[12], Faults: vals[13], Agents: vals[14],
			AgentDirs: vals[15], DBBytes: vals[16]})
	}
	return out, nil
}

func writeCSV(path string, samples []Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("samples csv: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(csvHeader)
	for _, s := range samples {
		_ = w.Write(s.row())
	}
	w.Flush()
	if err := w.Error(); err != nil {
		_ = f.Close()
		return fmt.Errorf("samples csv: %w", err)
	}
	return f.Close()
}

// writeSummaries writes summary.txt (for a person) and summary.md (a table for BENCHMARKS.md).
func writeSummaries(o options, args []string, samples []Sample, v Verdict, demoSummary string) error {
	var b strings.Builder
	verdict := "PASS"
	if !v.OK() {
		verdict = "FAIL: " + strings.Join(v.Problems, "; ")
	}
	fmt.Fprintf(&b, "soak %s\n", verdict)
	fmt.Fprintf(&b, "demo: %s %s\n", o.bin, strings.Join(args, " "))
	fmt.Fprintf(&b, "duration %s, interval %s, warm-up %s: %d samples, %d judged\n", o.duration, o.interval, o.warmup, len(samples), v.Samples)
	fmt.Fprintf(&b, "jobs: %.0f queued, %.0f finished (%.0f failed), %.0f ran twice; last third: %.0f finished for %.0f queued\n",
		v.JobsQueued, v.JobsFinished, v.JobsFailed, v.RanTwice, v.LastThirdJobs, v.LastThirdIn)
	fmt.Fprintf(&b, "backlog (jobs queued or running), median: first third %.0f, last third %.0f\n", v.BacklogFirst, v.BacklogLast)
	fmt.Fprintf(&b, "faults injected: %.0f; reconcile errors: %.0f; ADO non-2xx/transport errors: %.0f\n", v.Faults, v.ReconcileErrs, v.ADOErrors)
	for _, s := range v.Series {
		fmt.Fprintf(&b, "%-17s start %s end %s min %s max %s median %s; per agent process %s; net of them: first third %s last third %s drift %s/h (raw slope %s/h)\n",
			s.Name, num(s.Start, s.Name), num(s.End, s.Name), num(s.Min, s.Name), num(s.Max, s.Name), num(s.Median, s.Name),
			num1(s.PerAgent, s.Name), num(s.FirstThird, s.Name), num(s.LastThird, s.Name), num(s.SlopePerHour, s.Name), num(s.RawSlopePerHour, s.Name))
	}
	first, end := samples[0], samples[len(samples)-1]
	fmt.Fprintf(&b, "agent dirs (not judged): %.0f -> %.0f (max %.0f)\n",
		first.AgentDirs, end.AgentDirs, maxOf(samples, func(s Sample) float64 { return s.AgentDirs }))
	fmt.Fprintf(&b, "demo's own summary:\n%s", demoSummary)
	if err := os.WriteFile(filepath.Join(o.out, "summary.txt"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	fmt.Print(b.String())

	var m strings.Builder
	fmt.Fprintf(&m, "| series | start | end | min | max | median | per agent process | first third* | last third* | drift per hour* | raw slope per hour | limit |\n")
	fmt.Fprintf(&m, "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range v.Series {
		fmt.Fprintf(&m, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | +%.0f%% + %s |\n", s.Name, num(s.Start, s.Name), num(s.End, s.Name),
			num(s.Min, s.Name), num(s.Max, s.Name), num(s.Median, s.Name), num1(s.PerAgent, s.Name),
			num(s.FirstThird, s.Name), num(s.LastThird, s.Name), num(s.SlopePerHour, s.Name), num(s.RawSlopePerHour, s.Name),
			s.Limit.Rel*100, num(s.Limit.Abs, s.Name))
	}
	fmt.Fprintf(&m, "\n\\* net of the agent processes alive at each scrape (the thirds' medians after the warm-up; the drift from the fit).\n")
	if err := os.WriteFile(filepath.Join(o.out, "summary.md"), []byte(m.String()), 0o644); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// num1 is num with one more decimal.
func num1(x float64, name string) string {
	if strings.HasSuffix(name, "_bytes") {
		return fmt.Sprintf("%.2f MiB", x/(1<<20))
	}
	return fmt.Sprintf("%.1f", x)
}

// num prints bytes in MiB and counts as integers.
func num(x float64, name string) string {
	if strings.HasSuffix(name, "_bytes") {
		return fmt.Sprintf("%.1f MiB", x/(1<<20))
	}
	return fmt.Sprintf("%.0f", x)
}

func maxOf(ss []Sample, get func(Sample) float64) float64 {
	m := 0.0
	for _, s := range ss {
		m = max(m, get(s))
	}
	return m
}
