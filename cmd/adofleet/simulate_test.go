package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/sim"
)

// handTrace: three jobs, one a minute, on pool linux.
const handTrace = `queue_time,duration,demands,pool
2025-03-03T09:00:00Z,300,docker,linux
2025-03-03T09:01:00Z,300,docker,linux
2025-03-03T09:02:00Z,300,docker,linux
`

func writeTrace(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.csv")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSimulateTable(t *testing.T) {
	t.Parallel()
	trace := writeTrace(t, handTrace)
	out, _, err := runCLI(t.Context(), "simulate", "--trace", trace, "--policy", "adofleet,stepfunctions", "--boot", "60s-60s")
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	for _, want := range []string{"3 jobs scored, boot 1m0s-1m0s, cycle 500ms", "adofleet", "stepfunctions", "ideal", "oracle", "source: ", "wait>ideal"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// --json gives every policy's numbers; the oracle bounds them; --plot writes an SVG with one
// point per policy plus the oracle, axes and labels.
func TestSimulateJSONAndPlot(t *testing.T) {
	t.Parallel()
	trace := writeTrace(t, handTrace)
	plot := filepath.Join(t.TempDir(), "out.svg")
	out, _, err := runCLI(t.Context(), "simulate", "--trace", trace, "--policy", "adofleet,keda,scaleset",
		"--boot", "60s-60s", "--price-per-hour", "1", "--json", "--plot", plot)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	var rep simulateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode --json output: %v\n%s", err, out)
	}
	if len(rep.Results) != 3 || rep.Jobs != 3 {
		t.Fatalf("%d results for %d jobs, want 3 and 3", len(rep.Results), rep.Jobs)
	}
	// 3 jobs of 5 minutes and a 1-minute boot each at $1/h: the oracle costs 18 minutes.
	if got, want := rep.Oracle.Cost, 18.0/60; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("oracle cost %v, want %v", got, want)
	}
	for _, r := range rep.Results {
		if r.Cost < rep.Oracle.Cost {
			t.Errorf("%s costs %v, below the oracle's %v", r.Policy, r.Cost, rep.Oracle.Cost)
		}
	}

	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var points, axes, labels []string
	root := ""
	dec := xml.NewDecoder(f)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Space + " " + se.Name.Local
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch {
		case se.Name.Local == "circle" && attr["class"] == "point":
			if _, err := strconv.ParseFloat(attr["cx"], 64); err != nil {
				t.Errorf("point %q has cx %q", attr["data-policy"], attr["cx"])
			}
			points = append(points, attr["data-policy"])
		case se.Name.Local == "line" && strings.HasPrefix(attr["class"], "axis"):
			axes = append(axes, attr["class"])
		case se.Name.Local == "text" && strings.HasPrefix(attr["class"], "axis-label"):
			labels = append(labels, attr["class"])
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		t.Errorf("root element %q, want an svg in the SVG namespace", root)
	}
	if want := []string{"oracle (lower bound)", "adofleet", "keda", "scaleset"}; strings.Join(points, ",") != strings.Join(want, ",") {
		t.Errorf("points %q, want %q", points, want)
	}
	if len(axes) != 2 || len(labels) != 2 {
		t.Errorf("axes %q and axis labels %q, want two of each", axes, labels)
	}
}

// --train-days: the first day is only learned from; every policy, the ideal launcher included,
// is scored on the second day's jobs alone.
func TestSimulateTrainDays(t *testing.T) {
	t.Parallel()
	trace := writeTrace(t, handTrace+`2025-03-04T09:00:00Z,300,docker,linux
2025-03-04T09:00:30Z,300,docker,linux
`)
	out, _, err := runCLI(t.Context(), "simulate", "--trace", trace, "--policy", "adofleet-predictive,adofleet",
		"--boot", "60s-60s", "--train-days", "1", "--json")
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	var rep simulateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("decode --json output: %v\n%s", err, out)
	}
	if rep.Jobs != 2 || rep.TrainJobs != 3 || rep.TrainDays != 1 {
		t.Fatalf("scored %d jobs, learned from %d over %d days; want 2, 3 and 1", rep.Jobs, rep.TrainJobs, rep.TrainDays)
	}
	for _, r := range append(rep.Results, rep.Ideal) {
		if r.Jobs != 2 {
			t.Errorf("%s scored %d jobs, want the 2 after the cut", r.Policy, r.Jobs)
		}
	}
	table, _, err := runCLI(t.Context(), "simulate", "--trace", trace, "--policy", "adofleet-predictive",
		"--boot", "60s-60s", "--train-days", "1")
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	if want := "learned from the 3 jobs queued from 2025-03-03 and before 2025-03-04"; !strings.Contains(table, want) {
		t.Errorf("table lacks %q:\n%s", want, table)
	}
}

func TestSimulateBadInput(t *testing.T) {
	t.Parallel()
	good := writeTrace(t, handTrace)
	bad := writeTrace(t, "queue_time,duration,demands,pool\n2025-03-03T09:00:00Z,forever,,linux\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "--trace", bad}, "line 2: duration \"forever\""},
		{[]string{"simulate", "--trace", good, "--policy", "magic"}, "policy \"magic\""},
		{[]string{"simulate", "--trace", good, "--boot", "slow"}, "--boot"},
		{[]string{"simulate", "--trace", good, "--schedule", "mon 8-18 2"}, "--schedule"},
		{[]string{"simulate"}, "\"trace\" not set"},
		{[]string{"simulate", "--trace", good, "--train-days", "1"}, "--train-days: split: no job is queued after the first 1 days"},
		{[]string{"simulate", "--trace", good, "--train-days", "-1"}, "--train-days"},
	}
	for _, tt := range tests {
		_, _, err := runCLI(t.Context(), tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want it to contain %q", tt.args, err, tt.want)
		}
	}
}

func TestTraceGen(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t.Context(), "trace", "gen", "--shape", "office-hours", "--days", "2", "--seed", "4", "--pool", "win", "--demands", "msbuild;Agent.OS -equals Windows_NT")
	if err != nil {
		t.Fatalf("trace gen: %v", err)
	}
	jobs, err := sim.ParseTrace(strings.NewReader(out))
	if err != nil {
		t.Fatalf("trace gen output does not parse: %v", err)
	}
	if len(jobs) < 500 {
		t.Fatalf("%d jobs in two office days, want hundreds", len(jobs))
	}
	if j := jobs[0]; j.Pool != "win" || strings.Join(j.Demands, ";") != "msbuild;Agent.OS -equals Windows_NT" {
		t.Fatalf("first job %+v, want pool win with the demands given", j)
	}
	again, _, _ := runCLI(t.Context(), "trace", "gen", "--shape", "office-hours", "--days", "2", "--seed", "4", "--pool", "win", "--demands", "msbuild;Agent.OS -equals Windows_NT")
	if again != out {
		t.Fatal("the same seed gave two different traces")
	}
	if _, _, err := runCLI(t.Context(), "trace", "gen", "--shape", "square"); err == nil {
		t.Fatal("trace gen --shape square: no error")
	}
}

// export reads a pool's finished requests from the simulator over HTTP, through the real ADO
// client, and keeps those that ran; what it writes simulates.
func TestTraceExport(t *testing.T) {
	const pat = "trace-export-pat"
	t.Setenv("ADOFLEET_TEST_PAT", pat)
	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat, MessagePollTimeout: time.Second})
	if _, err := h.org.AddAgent("build", adosim.AgentSpec{Name: "placeholder", UserCapabilities: map[string]string{"docker": "true"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	durations := []time.Duration{300 * time.Millisecond, 600 * time.Millisecond}
	for i, d := range durations {
		if _, err := h.org.QueueJob("build", adosim.JobSpec{Demands: []string{"docker"}, Duration: d}); err != nil {
			t.Fatal(err)
		}
		err := adosim.RunAgent(ctx, adosim.AgentOptions{URL: h.sim.URL, Token: pat, Pool: "build",
			Name: "agent-" + strconv.Itoa(i), Once: true, Capabilities: map[string]string{"docker": "true"}})
		if err != nil {
			t.Fatalf("RunAgent: %v", err)
		}
	}
	// Failed at once (no agent has gpu): it never ran, so it is not in the trace.
	if _, err := h.org.QueueJob("build", adosim.JobSpec{Demands: []string{"gpu"}}); err != nil {
		t.Fatal(err)
	}
	cfg := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
store:
  sqlite:
    path: {state}
{localAgents}
pools:
  - name: build
    provider: local
    max: 2
`)
	out, stderr, err := runCLI(ctx, "trace", "export", "-c", cfg, "--pool", "build")
	if err != nil {
		t.Fatalf("trace export: %v\n%s", err, stderr)
	}
	if strings.Contains(out+stderr, pat) {
		t.Fatal("the PAT appears in the output")
	}
	jobs, err := sim.ParseTrace(strings.NewReader(out))
	if err != nil {
		t.Fatalf("exported trace does not parse: %v\n%s", err, out)
	}
	if len(jobs) != len(durations) {
		t.Fatalf("%d jobs exported, want %d (the failed one left out):\n%s", len(jobs), len(durations), out)
	}
	for i, j := range jobs {
		if j.Pool != "build" || strings.Join(j.Demands, ";") != "docker" || j.Duration < durations[i] {
			t.Errorf("job %d: %+v, want pool build, demands docker, ran at least %v", i, j, durations[i])
		}
	}
	trace := writeTrace(t, out)
	if _, _, err := runCLI(ctx, "simulate", "--trace", trace, "--policy", "adofleet"); err != nil {
		t.Fatalf("simulate the exported trace: %v", err)
	}
}
