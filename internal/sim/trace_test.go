package sim_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/sim"
)

func TestTraceParse(t *testing.T) {
	t.Parallel()
	in := `# a comment
pool,queue_time,duration,demands
linux,2025-03-03T08:00:10Z,7m30s,docker;Agent.OS -equals Linux

linux,2025-03-03T08:00:00Z,90,
`
	got, err := sim.ParseTrace(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParseTrace: %v", err)
	}
	at := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	want := []sim.Job{
		{QueueTime: at, Duration: 90 * time.Second, Pool: "linux"},
		{QueueTime: at.Add(10 * time.Second), Duration: 7*time.Minute + 30*time.Second, Demands: []string{"docker", "Agent.OS -equals Linux"}, Pool: "linux"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("jobs (-want +got):\n%s", d)
	}
}

func TestTraceParseErrors(t *testing.T) {
	t.Parallel()
	const header = "queue_time,duration,demands,pool\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "trace: empty"},
		{"missing column", "queue_time,duration,pool\n", "line 1: header lacks column \"demands\""},
		{"bad time", header + "2025-03-03T08:00:00Z,60,,linux\nyesterday,60,,linux\n", "line 3: queue_time \"yesterday\""},
		{"bad duration", header + "2025-03-03T08:00:00Z,soon,,linux\n", "line 2: duration \"soon\""},
		{"negative duration", header + "2025-03-03T08:00:00Z,-5s,,linux\n", "line 2: duration \"-5s\": want a positive duration"},
		{"empty pool", header + "2025-03-03T08:00:00Z,60,docker,\n", "line 2: pool is empty"},
		{"short row", header + "2025-03-03T08:00:00Z,60\n", "line 2: column \"demands\" missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sim.ParseTrace(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseTrace error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// A generated trace survives WriteTrace and ParseTrace unchanged.
func TestTraceRoundTrip(t *testing.T) {
	t.Parallel()
	jobs, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeBursty, Days: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sim.WriteTrace(&buf, jobs); err != nil {
		t.Fatal(err)
	}
	got, err := sim.ParseTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(jobs, got); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
}

// Each shape has its signature: office hours peak on weekday daytime and batch at 02:00, bursty
// has 200 jobs within a minute, steady is flat; equal seeds give equal traces.
func TestTraceGenShapes(t *testing.T) {
	t.Parallel()
	perHour := func(jobs []sim.Job) [24 * 7]int {
		var h [24 * 7]int
		for _, j := range jobs {
			h[int(j.QueueTime.Sub(sim.GenStart)/time.Hour)%(24*7)]++
		}
		return h
	}
	office, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeOfficeHours, Days: 7, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := perHour(office)
	if h[10] < 3*h[21] { // Monday 10:00 against Monday 21:00
		t.Errorf("office hours: %d jobs at 10:00, %d at 21:00; want a daytime peak", h[10], h[21])
	}
	if h[2] < 40 { // the nightly batch
		t.Errorf("office hours: %d jobs at 02:00, want the batch of 40", h[2])
	}
	if sat := h[5*24+10]; sat*5 > h[10] {
		t.Errorf("office hours: %d jobs on Saturday 10:00 against %d on Monday; want a quiet weekend", sat, h[10])
	}

	bursty, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeBursty, Days: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for i := range bursty {
		n := 0
		for k := i; k < len(bursty) && bursty[k].QueueTime.Sub(bursty[i].QueueTime) < time.Minute; k++ {
			n++
		}
		best = max(best, n)
	}
	if best < 200 {
		t.Errorf("bursty: at most %d jobs within a minute, want a burst of at least 200", best)
	}

	steady, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeSteady, Days: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(steady); n < 600 || n > 840 { // 30/h for 24h: 720, Poisson
		t.Errorf("steady: %d jobs in a day, want about 720", n)
	}
	again, _ := sim.Generate(sim.GenOptions{Shape: sim.ShapeSteady, Days: 1, Seed: 1})
	if d := cmp.Diff(steady, again); d != "" {
		t.Errorf("same seed, different traces (-first +second):\n%s", d)
	}
	if _, err := sim.Generate(sim.GenOptions{Shape: "lumpy"}); err == nil {
		t.Error("Generate(lumpy): no error")
	}
}
