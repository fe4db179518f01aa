package sim_test

import (
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/sim"
)

// Two jobs 10 s apart whose agents boot in 90 s and 40 s. Worked by hand:
//
//	ideal launcher: A's agent launched at 5 s is online at 95 s, B's at 15 s at 55 s. At 55 s ADO
//	  hands the oldest queued job, A, to B's agent: A waits 50 s, B (at 95 s) 80 s.
//	adofleet, its resync an hour away: A's event reaches it at 6 s, a cycle launches at once (90 s,
//	  online 96 s); B's at 16 s (40 s, online 56 s). A waits 51 s, B 81 s.
//
// Beyond ideal: 1 s each, the event's delivery. Beyond own boot: A 51-40 = 11 s, B 0: the
// reshuffle, which no launcher avoids, charged to the policy.
func TestWaitBeyondIdealHandTrace(t *testing.T) {
	t.Parallel()
	jobs := []sim.Job{
		{QueueTime: q0.Add(5 * time.Second), Duration: 10 * time.Minute, Pool: "linux"},
		{QueueTime: q0.Add(15 * time.Second), Duration: 10 * time.Minute, Pool: "linux"},
	}
	boots := []time.Duration{90 * time.Second, 40 * time.Second}
	tests := []struct {
		name      string
		policy    string
		cycleTime time.Duration
		want      sim.Summary // wait beyond ideal
		wantBoot  float64     // max wait beyond own boot
		wantIdeal sim.Summary
	}{
		{"ideal", sim.PolicyIdeal, -1, sim.Summary{}, 10, sim.Summary{Mean: 65, P50: 50, P95: 80, Max: 80}},
		{"adofleet", sim.PolicyAdofleet, -1, sim.Summary{Mean: 1, P50: 1, P95: 1, Max: 1}, 11, sim.Summary{Mean: 65, P50: 50, P95: 80, Max: 80}},
		// A cycle's observe calls come before its launches: each job 0.5 s later.
		{"adofleet, 500ms cycle", sim.PolicyAdofleet, 0, sim.Summary{Mean: 1.5, P50: 1.5, P95: 1.5, Max: 1.5}, 11.5, sim.Summary{Mean: 65, P50: 50, P95: 80, Max: 80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := sim.PolicyByName(tt.policy, sim.PolicyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p.Poll = time.Hour // only the wake-ups act
			res, err := sim.Run(t.Context(), sim.Config{Jobs: jobs, Policy: p, BootSequence: boots, CycleTime: tt.cycleTime, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if res.WaitBeyondIdeal != tt.want {
				t.Errorf("wait beyond ideal %+v, want %+v", res.WaitBeyondIdeal, tt.want)
			}
			if res.WaitBeyondBoot.Max != tt.wantBoot {
				t.Errorf("max wait beyond own boot %vs, want %vs", res.WaitBeyondBoot.Max, tt.wantBoot)
			}
			if res.IdealWait != tt.wantIdeal {
				t.Errorf("ideal waits %+v, want %+v", res.IdealWait, tt.wantIdeal)
			}
		})
	}
}

// A job's agent boots in the same drawn time under every policy: with jobs far apart (each
// done before the next), adofleet's waits differ from the ideal launcher's by exactly the
// delivery and the cycle, whatever the boot drawn.
func TestBootDrawsMatchByLaunch(t *testing.T) {
	t.Parallel()
	var jobs []sim.Job
	for i := range 12 {
		jobs = append(jobs, sim.Job{QueueTime: q0.Add(time.Duration(i)*10*time.Minute + 7*time.Second), Duration: time.Minute, Pool: "linux"})
	}
	res := run(t, sim.PolicyAdofleet, sim.Config{Jobs: jobs, Boot: sim.BootEC2, Seed: 3})
	if res.Wait.P50 == res.Wait.Max {
		t.Fatalf("waits %+v all equal; want the drawn boots to vary", res.Wait)
	}
	want := (sim.HookDelivery + sim.DefaultCycleTime).Seconds()
	if res.WaitBeyondIdeal.P50 != want || res.WaitBeyondIdeal.Max != want {
		t.Fatalf("wait beyond ideal %+v; want %vs for every job", res.WaitBeyondIdeal, want)
	}
}

// A burst of 100 jobs within 10 s: the wake-ups coalesce into about one cycle per wake interval
// instead of one per job, and no job waits more than the delivery, the cycle and one interval
// beyond the ideal launcher.
func TestBurstWakeUpsCoalesce(t *testing.T) {
	t.Parallel()
	var jobs []sim.Job
	for i := range 100 {
		jobs = append(jobs, sim.Job{QueueTime: q0.Add(7*time.Second + time.Duration(i)*100*time.Millisecond), Duration: 2 * time.Minute, Pool: "linux"})
	}
	cfg := sim.Config{Jobs: jobs, Boot: fixedBoot}
	coalesced := run(t, sim.PolicyAdofleet, cfg)
	p, err := sim.PolicyByName(sim.PolicyAdofleet, sim.PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.WakeInterval = 0
	cfg.Policy, cfg.Dir = p, t.TempDir()
	each, err := sim.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if coalesced.Wakeups != 100 || each.Wakeups != 100 {
		t.Fatalf("wake-ups %d and %d, want 100 (one per job)", coalesced.Wakeups, each.Wakeups)
	}
	// The burst spans 10 s: at most 10s/2s+1 wake cycles.
	if coalesced.WakeCycles > 6 || coalesced.WakeCycles < 1 {
		t.Errorf("coalesced: %d cycles for 100 wake-ups, want 1 to 6", coalesced.WakeCycles)
	}
	if each.WakeCycles != 100 {
		t.Errorf("uncoalesced: %d cycles for 100 wake-ups, want 100", each.WakeCycles)
	}
	if coalesced.ADOCalls*5 > each.ADOCalls {
		t.Errorf("ADO calls %d coalesced against %d; want at most a fifth", coalesced.ADOCalls, each.ADOCalls)
	}
	limit := (sim.HookDelivery + sim.DefaultCycleTime + 2*time.Second).Seconds()
	if got := coalesced.WaitBeyondIdeal.Max; got > limit {
		t.Errorf("coalesced: max wait beyond ideal %vs, want at most %vs", got, limit)
	}
}
