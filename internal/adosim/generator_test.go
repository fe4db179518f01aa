package adosim_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
)

type arrival struct {
	At       time.Duration
	Duration time.Duration
	Demands  []string
}

// runGenerator runs a generator to completion under virtual time and returns what it queued.
func runGenerator(t *testing.T, opts adosim.GeneratorOptions) []arrival {
	t.Helper()
	var got []arrival
	synctest.Test(t, func(t *testing.T) {
		org := adosim.NewOrg(adosim.OrgOptions{Seed: 1})
		if _, err := org.AddPool("p"); err != nil {
			t.Fatal(err)
		}
		if _, err := org.AddAgent("p", adosim.AgentSpec{Name: "placeholder", SystemCapabilities: map[string]string{"docker": "1", "gpu": "1"}}); err != nil {
			t.Fatal(err)
		}
		opts.Pool = "p"
		g, err := adosim.NewGenerator(org, opts)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := g.Run(context.Background()); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if g.Queued() != opts.Count {
			t.Fatalf("Queued() = %d, want %d", g.Queued(), opts.Count)
		}
		jobs := org.Jobs()
		for _, j := range jobs {
			if j.State != adosim.JobQueued {
				t.Fatalf("job %d state %s (%s), want queued", j.RequestID, j.State, j.StatusMessage)
			}
			got = append(got, arrival{At: j.QueueTime.Sub(start), Duration: j.Duration, Demands: j.Demands})
		}
		if last := got[len(got)-1].At; last != time.Since(start) {
			t.Fatalf("last arrival at %v, but Run returned at %v", last, time.Since(start))
		}
	})
	return got
}

func TestGeneratorCountAndDeterminism(t *testing.T) {
	t.Parallel()
	opts := adosim.GeneratorOptions{
		Rate: 2, Durations: adosim.Uniform(time.Second, 5*time.Second), Count: 25, Seed: 7,
		DemandSets: [][]string{{"docker"}, {"gpu"}},
	}
	a := runGenerator(t, opts)
	b := runGenerator(t, opts)
	if len(a) != 25 {
		t.Fatalf("queued %d jobs, want 25", len(a))
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different arrivals (-first +second):\n%s", diff)
	}
	for i, x := range a {
		if x.Duration < time.Second || x.Duration > 5*time.Second {
			t.Fatalf("job %d duration %v outside [1s, 5s]", i, x.Duration)
		}
		if i > 0 && x.At < a[i-1].At {
			t.Fatalf("arrivals out of order at %d", i)
		}
	}
	opts.Seed = 8
	if c := runGenerator(t, opts); cmp.Equal(a, c) {
		t.Fatal("different seeds gave identical arrivals")
	}
}

func TestGeneratorStopsWithContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		org := adosim.NewOrg(adosim.OrgOptions{})
		if _, err := org.AddPool("p"); err != nil {
			t.Fatal(err)
		}
		g, err := adosim.NewGenerator(org, adosim.GeneratorOptions{Pool: "p", Rate: 1, Durations: adosim.Exponential(time.Minute), Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		if err := g.Run(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Run = %v, want DeadlineExceeded", err)
		}
		// About 3600 arrivals in an hour at 1/s; every one failed at once (empty pool).
		if n := g.Queued(); n < 3000 || n > 4200 {
			t.Fatalf("queued %d jobs in an hour at 1/s", n)
		}
		if j := org.Jobs()[0]; j.Result != "failed" {
			t.Fatalf("job in an agentless pool: result %q, want failed", j.Result)
		}
	})
}

func TestGeneratorOptionsValidated(t *testing.T) {
	t.Parallel()
	org := adosim.NewOrg(adosim.OrgOptions{})
	tests := []struct {
		name string
		opts adosim.GeneratorOptions
	}{
		{"no pool", adosim.GeneratorOptions{Rate: 1, Durations: adosim.Fixed(time.Second)}},
		{"zero rate", adosim.GeneratorOptions{Pool: "p", Durations: adosim.Fixed(time.Second)}},
		{"no durations", adosim.GeneratorOptions{Pool: "p", Rate: 1}},
		{"bad uniform", adosim.GeneratorOptions{Pool: "p", Rate: 1, Durations: adosim.Uniform(2*time.Second, time.Second)}},
		{"bad demand", adosim.GeneratorOptions{Pool: "p", Rate: 1, Durations: adosim.Fixed(0), Demands: []string{"x -like y"}}},
	}
	for _, tc := range tests {
		if _, err := adosim.NewGenerator(org, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
