package history_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/history"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func TestSeriesKeepsThePeakOfEachBucket(t *testing.T) {
	t.Parallel()
	r := history.New(history.Options{})
	r.Record("linux", t0, history.Sample{Queued: 3, Busy: 1})
	r.Record("linux", t0.Add(20*time.Second), history.Sample{Queued: 1, Busy: 4})
	r.Record("linux", t0.Add(40*time.Second), history.Sample{Queued: 2, Busy: 2})
	r.Record("linux", t0.Add(70*time.Second), history.Sample{Idle: 2})
	r.Record("other", t0.Add(70*time.Second), history.Sample{Queued: 9})

	got := r.Series("linux", t0, t0.Add(2*time.Minute), time.Minute)
	want := []history.Point{
		{Time: t0, Peak: history.Sample{Queued: 3, Busy: 4}, AgentSeconds: 1*20 + 4*20},
		{Time: t0.Add(time.Minute), Peak: history.Sample{Idle: 2}, AgentSeconds: 2 * 30},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Series (-want +got):\n%s", diff)
	}
	if got, want := r.LastSample(), t0.Add(70*time.Second); !got.Equal(want) {
		t.Errorf("LastSample: got %v, want %v", got, want)
	}
	if got := r.Series("missing", t0, t0.Add(time.Hour), time.Minute); got != nil {
		t.Errorf("Series of an unknown pool: got %v, want nil", got)
	}
}

func TestSeriesMergesSteps(t *testing.T) {
	t.Parallel()
	r := history.New(history.Options{})
	for i := range 10 { // one sample a minute, busy = i
		r.Record("p", t0.Add(time.Duration(i)*time.Minute), history.Sample{Busy: i})
	}
	got := r.Series("p", t0, t0.Add(10*time.Minute), 4*time.Minute)
	var times []time.Duration
	var busy []int
	var secs float64
	for _, p := range got {
		times = append(times, p.Time.Sub(t0))
		busy = append(busy, p.Peak.Busy)
		secs += p.AgentSeconds
	}
	// t0 is 09:00, a multiple of 4 minutes since the epoch, so groups start at 0, 4 and 8 min.
	if diff := cmp.Diff([]time.Duration{0, 4 * time.Minute, 8 * time.Minute}, times); diff != "" {
		t.Errorf("point times (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{3, 7, 9}, busy); diff != "" {
		t.Errorf("peaks (-want +got):\n%s", diff)
	}
	// Each minute integrates the previous sample's busy agents: 0+1+...+8 minutes.
	if want := float64(36 * 60); secs != want {
		t.Errorf("agent-seconds over the merged points: got %v, want %v", secs, want)
	}
	if got := r.AgentSeconds("p", t0, t0.Add(10*time.Minute)); got != secs {
		t.Errorf("AgentSeconds: got %v, want %v", got, secs)
	}
}

func TestRingForgetsOutsideTheWindow(t *testing.T) {
	t.Parallel()
	r := history.New(history.Options{Resolution: time.Minute, Window: 10 * time.Minute})
	for i := range 25 {
		r.Record("p", t0.Add(time.Duration(i)*time.Minute), history.Sample{Queued: i})
	}
	end := t0.Add(25 * time.Minute)
	got := r.Series("p", t0, end, time.Minute)
	if len(got) != 10 {
		t.Fatalf("points: got %d, want the window's 10", len(got))
	}
	if first, last := got[0].Peak.Queued, got[9].Peak.Queued; first != 15 || last != 24 {
		t.Errorf("window: got queued %d..%d, want 15..24", first, last)
	}
	// A bucket reused by the ring no longer answers for its old time.
	if old := r.Series("p", t0, t0.Add(5*time.Minute), time.Minute); len(old) != 0 {
		t.Errorf("series of a time out of the window: got %v, want none", old)
	}
}

func TestGapsAndOutOfOrderSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   []time.Duration
		want float64
	}{
		{"steady", []time.Duration{0, 30 * time.Second, time.Minute}, 2 * 60},
		{"a gap longer than MaxGap is not integrated", []time.Duration{0, 10 * time.Minute, 10*time.Minute + 30*time.Second}, 2 * 30},
		{"an older sample is ignored", []time.Duration{0, time.Minute, 30 * time.Second}, 2 * 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := history.New(history.Options{})
			for _, d := range tt.at {
				r.Record("p", t0.Add(d), history.Sample{Idle: 2})
			}
			if got := r.AgentSeconds("p", t0, t0.Add(time.Hour)); got != tt.want {
				t.Errorf("AgentSeconds: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	r := history.New(history.Options{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				r.Record("p", t0.Add(time.Duration(i)*time.Second), history.Sample{Busy: w})
				_ = r.Series("p", t0, t0.Add(time.Hour), time.Minute)
			}
		})
	}
	wg.Wait()
	if got := r.Pools(); !cmp.Equal(got, []string{"p"}) {
		t.Errorf("Pools: got %v, want [p]", got)
	}
}

func BenchmarkRecordAndSeries(b *testing.B) {
	r := history.New(history.Options{})
	for i := range 1440 {
		r.Record("p", t0.Add(time.Duration(i)*time.Minute), history.Sample{Busy: i % 7})
	}
	end := t0.Add(24 * time.Hour)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Record("p", end.Add(time.Duration(i)*time.Millisecond), history.Sample{Busy: 3})
		_ = r.Series("p", end.Add(-24*time.Hour), end, 5*time.Minute)
	}
}
