package sim_test

import (
	"os"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/sim"
)

const dayLen = 24 * time.Hour

// tenAt09 is 10 jobs in the 09:00 bucket of the given day after q0's.
func tenAt09(day int) []sim.Job {
	var out []sim.Job
	base := q0.Add(time.Duration(day) * dayLen)
	for i := range 10 {
		out = append(out, sim.Job{QueueTime: base.Add(time.Duration(i) * 20 * time.Second), Duration: time.Minute, Pool: "linux"})
	}
	return out
}

// Two weeks of history (weekly buckets): 10 jobs at 09:00 every Monday. A bucket's samples are
// its own and its two neighbours' on each side, every week: 10 samples, two of them 10.
func TestPredictLearnWeekly(t *testing.T) {
	t.Parallel()
	hist := append(tenAt09(0), tenAt09(7)...)
	hist = append(hist, sim.Job{QueueTime: q0.Add(13*dayLen + 5*time.Hour), Duration: time.Minute, Pool: "linux"}) // the last Sunday
	boot := sim.BootDist{Min: 150 * time.Second, Max: 150 * time.Second}                                           // half a bucket: the level looks 150 s ahead
	tests := []struct {
		name string
		q    float64
		at   time.Time
		want int
	}{
		{"q 0.9 at 09:00 (10 jobs per bucket, half a bucket per boot)", 0.9, q0.Add(-150 * time.Second), 5},
		{"q 0.9 at 09:10, a neighbour", 0.9, q0.Add(10*time.Minute - 150*time.Second), 5},
		{"q 0.9 at 09:15, out of reach", 0.9, q0.Add(15*time.Minute - 150*time.Second), 0},
		{"q 0.5 at 09:00: most samples are empty", 0.5, q0.Add(-150 * time.Second), 0},
		{"q 0.9 on a later Monday", 0.9, q0.Add(21*dayLen - 150*time.Second), 5},
		{"q 0.9 on a Tuesday: weekly buckets", 0.9, q0.Add(dayLen - 150*time.Second), 0},
	}
	for _, tt := range tests {
		pred, err := sim.Learn(hist, tt.q, boot)
		if err != nil {
			t.Fatal(err)
		}
		if got := pred.At("linux", tt.at); got != tt.want {
			t.Errorf("%s: At = %d, want %d", tt.name, got, tt.want)
		}
		if got := pred.At("windows", tt.at); got != 0 {
			t.Errorf("%s: an unknown pool's level = %d, want 0", tt.name, got)
		}
	}
}

// Less than a week of history: daily buckets, so Monday's 09:00 predicts Tuesday's.
func TestPredictLearnDaily(t *testing.T) {
	t.Parallel()
	boot := sim.BootDist{Min: 150 * time.Second, Max: 150 * time.Second}
	pred, err := sim.Learn(tenAt09(0), 1, boot)
	if err != nil {
		t.Fatal(err)
	}
	if got := pred.At("linux", q0.Add(dayLen-150*time.Second)); got != 5 {
		t.Errorf("Tuesday 09:00 = %d, want 5 (Monday's)", got)
	}
	if _, err := sim.Learn(nil, 1.5, boot); err == nil {
		t.Error("quantile 1.5: no error")
	}
}

// The split: the predictive policy learns only from the days before the cut, and is blind to
// what happens after it. Monday is quiet, Tuesday 09:00 busy: trained on Monday, it keeps no
// standby for Tuesday 09:00; trained on both (in-sample), it would.
func TestSplitNoTrainingOnTestData(t *testing.T) {
	t.Parallel()
	quiet := sim.Job{QueueTime: q0.Add(3 * time.Hour), Duration: time.Minute, Pool: "linux"}
	jobs := append([]sim.Job{quiet}, tenAt09(1)...)
	train, test, err := sim.SplitTrace(jobs, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 1 || len(test) != 10 {
		t.Fatalf("split %d/%d jobs, want 1 to train and 10 to test", len(train), len(test))
	}
	boot := sim.BootDist{Min: 150 * time.Second, Max: 150 * time.Second}
	pred, err := sim.Learn(train, 1, boot)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range test {
		if j.QueueTime.Before(pred.To) {
			t.Fatalf("test job at %v is inside the learned history (to %v)", j.QueueTime, pred.To)
		}
	}
	tuesday9 := q0.Add(dayLen - 150*time.Second)
	if got := pred.At("linux", tuesday9); got != 0 {
		t.Errorf("trained on Monday: Tuesday 09:00 level %d, want 0", got)
	}
	inSample, _ := sim.Learn(jobs, 1, boot)
	if got := inSample.At("linux", tuesday9); got == 0 {
		t.Error("trained on both days: Tuesday 09:00 level 0; the test above would prove nothing")
	}
	if _, _, err := sim.SplitTrace(jobs, 2); err == nil {
		t.Error("split after the last job: no error")
	}
}

// A 10,000-job trace (four weeks of office hours, the first week to learn from and three to
// score): about 90 s; set ADOFLEET_SIM_LONG=1.
func TestLong10kJobs(t *testing.T) {
	if testing.Short() || os.Getenv("ADOFLEET_SIM_LONG") == "" {
		t.Skip("long: set ADOFLEET_SIM_LONG=1")
	}
	jobs, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeOfficeHours, Days: 28, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := sim.SplitTrace(jobs, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d jobs: %d to learn from, %d scored", len(jobs), len(train), len(test))
	for _, name := range []string{sim.PolicyKEDA, sim.PolicyAdofleet, sim.PolicyPredictive} {
		p, err := sim.PolicyByName(name, sim.PolicyOptions{History: train, Boot: sim.BootFargate})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := sim.Run(t.Context(), sim.Config{Jobs: test, Policy: p, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if res.BusyKilled != 0 || res.CycleErrors != 0 || res.Failed != 0 {
			t.Fatalf("%s: %d busy agents killed, %d cycle errors, %d failed; want none", name, res.BusyKilled, res.CycleErrors, res.Failed)
		}
		t.Logf("%s: %v wall; wait>ideal mean %.1fs p95 %.1fs max %.1fs; wait p95 %.0fs; idle $%.2f cost $%.2f; %d ADO calls, %d cycles for %d wake-ups",
			name, time.Since(start).Round(time.Second), res.WaitBeyondIdeal.Mean, res.WaitBeyondIdeal.P95, res.WaitBeyondIdeal.Max,
			res.Wait.P95, res.IdleCost, res.Cost, res.ADOCalls, res.Cycles, res.Wakeups)
	}
}
