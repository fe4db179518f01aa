package main

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// samplesOf builds samples every 30 s for n samples; f gives a sample's resources at index i.
func samplesOf(n int, f func(i int, s *Sample)) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{Seconds: float64(i * 30), Goroutines: 50, HeapInuse: 20 << 20, RSS: 80 << 20, FDs: 40,
			JobsQueued: float64(i * 60), JobsFinished: float64(i*60 - 10)}
		if i == 0 {
			out[i].JobsFinished = 0
		}
		f(i, &out[i])
	}
	return out
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		samples []Sample
		want    []string // substrings of the problems, in order; none for a pass
	}{
		{"flat", samplesOf(60, func(int, *Sample) {}), nil},
		{"noisy but flat", samplesOf(60, func(i int, s *Sample) {
			// GC-like saw tooth: heap doubles and halves, goroutines swing with load.
			s.HeapInuse *= 1 + float64(i%4)/3
			s.Goroutines += float64((i * 7) % 30)
		}), nil},
		{"warm-up growth is not judged", samplesOf(60, func(i int, s *Sample) {
			s.RSS += float64(min(i, 10)) * (8 << 20) // grows over the first 5 minutes, then flat
		}), nil},
		{"goroutine leak", samplesOf(60, func(i int, s *Sample) { s.Goroutines += float64(i * 3) }), []string{"goroutines grew"}},
		{"slow heap leak", samplesOf(60, func(i int, s *Sample) { s.HeapInuse += float64(i) * (512 << 10) }), []string{"heap_inuse_bytes grew"}},
		{"fd leak", samplesOf(60, func(i int, s *Sample) { s.FDs += float64(i) }), []string{"open_fds grew"}},
		{"store at its size, WAL swinging", samplesOf(60, func(i int, s *Sample) {
			s.DBBytes = float64(6<<20) + float64(i%8)*(512<<10) // pruned to size; the WAL fills and is reused
		}), nil},
		{"store growing", samplesOf(60, func(i int, s *Sample) {
			s.DBBytes = float64(2<<20) + float64(i)*(256<<10) // 10 KiB a job at 60 jobs a sample: no housekeeping
		}), []string{"sqlite_bytes grew"}},
		{"jobs stop", samplesOf(60, func(i int, s *Sample) {
			s.JobsFinished = math.Min(s.JobsFinished, 1000)
		}), []string{"jobs stopped finishing"}},
		{"jobs fall behind", samplesOf(60, func(i int, s *Sample) {
			if i > 30 {
				s.JobsFinished = float64(30*60-10) + float64(i-30)*10
			}
		}), []string{"jobs fell behind"}},
		{"load swings, busier at the end", samplesOf(60, func(i int, s *Sample) {
			// Each agent process holds a goroutine and two pipes; the last scrapes land on busy moments.
			s.Agents = float64((i * 7) % 11)
			if i >= 40 {
				s.Agents += 15
			}
			s.Goroutines, s.FDs = 21+s.Agents, 22+2*s.Agents
		}), nil},
		{"leak under load swings", samplesOf(60, func(i int, s *Sample) {
			s.Agents = float64((i * 7) % 11)
			s.Goroutines, s.FDs = 21+s.Agents+float64(i), 22+2*s.Agents
		}), []string{"goroutines grew"}},
		{"ran twice", samplesOf(60, func(i int, s *Sample) { s.RanTwice = 1 }), []string{"1 jobs ran twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := analyze(tt.samples, 300)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Problems) != len(tt.want) {
				t.Fatalf("problems: got %q, want %d matching %q", v.Problems, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(v.Problems[i], w) {
					t.Errorf("problem %d: got %q, want it to contain %q", i, v.Problems[i], w)
				}
			}
			if got, want := v.OK(), len(tt.want) == 0; got != want {
				t.Errorf("OK: got %v, want %v", got, want)
			}
		})
	}
}

func TestAnalyzeTooShort(t *testing.T) {
	t.Parallel()
	if _, err := analyze(samplesOf(12, func(int, *Sample) {}), 300); err == nil {
		t.Fatal("analyze of 2 samples after the warm-up: got no error, want one")
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	if got, want := median([]float64{3, 1, 2}), 2.0; got != want {
		t.Errorf("median odd: got %g, want %g", got, want)
	}
	if got, want := median([]float64{4, 1, 3, 2}), 2.5; got != want {
		t.Errorf("median even: got %g, want %g", got, want)
	}
	// y = 5 + 2x exactly.
	if got, want := slope([]float64{0, 1, 2, 3}, []float64{5, 7, 9, 11}), 2.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("slope: got %g, want %g", got, want)
	}
	if got := slope([]float64{1, 1}, []float64{1, 2}); got != 0 {
		t.Errorf("slope of a vertical line: got %g, want 0", got)
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.5532032e+07
process_open_fds 30
process_resident_memory_bytes 7.8848e+07
adofleet_demo_jobs_queued_total 54
adofleet_demo_jobs_finished_total{result="failed"} 2
adofleet_demo_jobs_finished_total{result="succeeded"} 39
adofleet_demo_jobs_unfinished 15
adofleet_reconcile_total{outcome="error",pool="demo"} 3
adofleet_reconcile_total{outcome="ok",pool="demo"} 10
adofleet_ado_requests_total{call="ListAgents",code="200"} 100
adofleet_ado_requests_total{call="ListAgents",code="429"} 4
adofleet_ado_requests_total{call="AddAgent",code="error"} 1
adofleet_demo_faults_injected_total{fault="ado_429"} 4
adofleet_demo_faults_injected_total{fault="store_fail_after"} 3
adofleet_demo_agent_processes 6 1700000000000
`
	all, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	got := toSample(all)
	want := Sample{Goroutines: 42, HeapInuse: 15532032, RSS: 78848000, FDs: 30, JobsQueued: 54, JobsFinished: 41,
		JobsFailed: 2, JobsUnfinished: 15, ReconcileOK: 10, ReconcileErrors: 3, ADOErrors: 5, Faults: 7, Agents: 6}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sample (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"no_value", `x{a="b" 1`, "x abc"} {
		if _, err := parseMetrics(strings.NewReader(bad)); err == nil {
			t.Errorf("parseMetrics(%q): got no error, want one", bad)
		}
	}
}

func TestFit(t *testing.T) {
	t.Parallel()
	// y = 3 + 2*x1 + 5*x2 exactly, with x1 and x2 not collinear.
	x1 := []float64{0, 1, 4, 2, 7, 3}
	x2 := []float64{0, 1, 2, 3, 4, 5}
	y := make([]float64, len(x1))
	for i := range y {
		y[i] = 3 + 2*x1[i] + 5*x2[i]
	}
	b, c := fit(x1, x2, y)
	if math.Abs(b-2) > 1e-9 || math.Abs(c-5) > 1e-9 {
		t.Errorf("fit: got b=%g c=%g, want 2 and 5", b, c)
	}
	// x1 constant: the plain slope over x2.
	if b, c := fit([]float64{4, 4, 4}, []float64{0, 1, 2}, []float64{1, 3, 5}); b != 0 || math.Abs(c-2) > 1e-9 {
		t.Errorf("fit with constant x1: got b=%g c=%g, want 0 and 2", b, c)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	t.Parallel()
	want := samplesOf(5, func(i int, s *Sample) { s.Agents, s.AgentDirs, s.DBBytes = float64(i), 3, 4096.5 })
	path := t.TempDir() + "/samples.csv"
	if err := writeCSV(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := readCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}
