package sim_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/sim"
)

var (
	q0        = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC) // a Monday morning
	fixedBoot = sim.BootDist{Min: time.Minute, Max: time.Minute}
)

// twoJobs: one job at q0 and one 10 s later, 10 minutes each.
func twoJobs() []sim.Job {
	return []sim.Job{
		{QueueTime: q0, Duration: 10 * time.Minute, Demands: []string{"docker"}, Pool: "linux"},
		{QueueTime: q0.Add(10 * time.Second), Duration: 10 * time.Minute, Demands: []string{"docker"}, Pool: "linux"},
	}
}

func run(t *testing.T, policy string, cfg sim.Config) sim.Result {
	t.Helper()
	p, err := sim.PolicyByName(policy, sim.PolicyOptions{History: cfg.Jobs, Boot: cfg.Boot})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy = p
	cfg.Dir = t.TempDir()
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run(%s): %v", policy, err)
	}
	if res.BusyKilled != 0 || res.CycleErrors != 0 || res.Failed != 0 {
		t.Fatalf("Run(%s): %d busy agents killed, %d cycle errors, %d jobs failed; want none", policy, res.BusyKilled, res.CycleErrors, res.Failed)
	}
	return res
}

// Each baseline on two jobs 10 s apart, with a fixed 60 s boot. The controller's first cycle runs
// 2 minutes before the first job, so poll grids fall on q0.
func TestSimulateBaselinesOnHandTrace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy string
		// wantBeyond: the largest wait beyond boot, in seconds; wantMaxWait: the largest wait.
		wantBeyond, wantMaxWait float64
		why                     string
	}{
		// The 2-minute poll sees job 1 at q0 and job 2 only at q0+2m: 110 s of poll delay, then the boot.
		{sim.PolicyStepFunctions, 110, 170, "job 2 waits for the next 2-minute poll"},
		// KEDA's 30 s poll sees job 2 at q0+30s: 20 s late.
		{sim.PolicyKEDA, 20, 80, "job 2 waits for the next 30 s poll"},
		// A queued job wakes adofleet within 1 s; each job waits its agent's boot.
		{sim.PolicyAdofleet, 1, 61, "the wake-up's 1 s delivery"},
		// GitLab keeps idle_count=5 instances ready: no job waits.
		{sim.PolicyGitLab, 0, 0, "idle_count instances take both jobs"},
		// The scale set's standby agent takes job 1 at once; job 2 waits for the sample at
		// q0+3m (every 5 min from q0-2m) and a boot: 170 s beyond boot, 230 s in all.
		{sim.PolicyScaleSet, 170, 230, "job 2 waits for the 5-minute sample"},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			t.Parallel()
			// With one boot time for all, the ideal launcher's waits are that boot, and wait
			// beyond it is wait beyond boot.
			res := run(t, tt.policy, sim.Config{Jobs: twoJobs(), Boot: fixedBoot, CycleTime: -1})
			if res.WaitBeyondIdeal.Max != tt.wantBeyond || res.WaitBeyondBoot.Max != tt.wantBeyond || res.Wait.Max != tt.wantMaxWait {
				t.Fatalf("max wait beyond ideal %vs, beyond boot %vs, max wait %vs; want %vs, %vs and %vs (%s)",
					res.WaitBeyondIdeal.Max, res.WaitBeyondBoot.Max, res.Wait.Max, tt.wantBeyond, tt.wantBeyond, tt.wantMaxWait, tt.why)
			}
		})
	}
}

// Same trace and seed, same results, to the last call.
func TestSimulateDeterministic(t *testing.T) {
	t.Parallel()
	jobs, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeSteady, Days: 1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	jobs = jobs[:30]
	cfg := sim.Config{Jobs: jobs, Boot: sim.BootEC2, Seed: 42, SpotRate: 1}
	first := run(t, sim.PolicyAdofleet, cfg)
	second := run(t, sim.PolicyAdofleet, cfg)
	if d := cmp.Diff(first, second, cmpopts.IgnoreUnexported(sim.Result{})); d != "" {
		t.Fatalf("two runs differ (-first +second):\n%s", d)
	}
	a, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(second)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("two runs' JSON differ:\n%s\n%s", a, b)
	}
	other := run(t, sim.PolicyAdofleet, sim.Config{Jobs: jobs, Boot: sim.BootEC2, Seed: 43, SpotRate: 0.5})
	if cmp.Equal(first, other, cmpopts.IgnoreUnexported(sim.Result{})) {
		t.Fatal("seeds 42 and 43 gave identical results; the seed does not reach the draws")
	}
}

// No policy beats the oracle on cost or idle time, and every job runs.
func TestSimulateOracleIsLowerBound(t *testing.T) {
	t.Parallel()
	jobs, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeBursty, Days: 1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	jobs = jobs[:80]
	for _, name := range sim.PolicyNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := run(t, name, sim.Config{Jobs: jobs, Boot: sim.BootFargate, Seed: 1})
			if res.Jobs != len(jobs) {
				t.Fatalf("jobs %d, want %d", res.Jobs, len(jobs))
			}
			if res.Cost < res.Oracle.Cost || res.IdleMinutes < res.Oracle.IdleMinutes {
				t.Fatalf("cost %.4f idle %.1f min below the oracle's %.4f and %.1f min",
					res.Cost, res.IdleMinutes, res.Oracle.Cost, res.Oracle.IdleMinutes)
			}
			if res.BusyMinutes != res.Oracle.BusyMinutes {
				t.Fatalf("busy %.2f min, want the trace's %.2f", res.BusyMinutes, res.Oracle.BusyMinutes)
			}
			if res.ADOCalls < 2*res.Cycles {
				t.Fatalf("%d ADO calls for %d cycles; each cycle lists agents and job requests", res.ADOCalls, res.Cycles)
			}
		})
	}
}

// Spot interruptions kill agents mid-job: their jobs are retried and all finish, and the
// controller itself never kills a busy agent.
func TestSimulateSpotInterruptions(t *testing.T) {
	t.Parallel()
	jobs, err := sim.Generate(sim.GenOptions{Shape: sim.ShapeSteady, Days: 1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, sim.PolicyAdofleet, sim.Config{Jobs: jobs[:40], Boot: sim.BootFargate, SpotRate: 3})
	if res.Interruptions == 0 || res.Retried == 0 {
		t.Fatalf("interruptions %d, retried %d; want some of each at 3 per instance-hour", res.Interruptions, res.Retried)
	}
}

// The schedule's standby agents are there when office hours start: a job at 09:00 on a Monday
// does not wait, one at 20:00 waits a boot.
func TestSimulateScheduleStandby(t *testing.T) {
	t.Parallel()
	jobs := []sim.Job{
		{QueueTime: q0, Duration: time.Minute, Pool: "linux"},
		{QueueTime: q0.Add(11 * time.Hour), Duration: time.Minute, Pool: "linux"},
	}
	cfg := sim.Config{Jobs: jobs, Boot: fixedBoot, Dir: t.TempDir(), CycleTime: -1}
	sched, err := sim.ParseSchedule("mon-fri 08:00-18:00 2")
	if err != nil {
		t.Fatal(err)
	}
	p, err := sim.PolicyByName(sim.PolicySchedule, sim.PolicyOptions{Schedule: sched})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy = p
	res, err := sim.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Job 1 (in hours) starts at once; job 2 (after 18:00) waits the wake-up and a boot.
	if res.Wait.P50 != 0 || res.Wait.Max != 61 {
		t.Fatalf("waits p50 %vs max %vs; want 0 (standby) and 61 (after hours)", res.Wait.P50, res.Wait.Max)
	}
}

func TestSimulateScheduleParse(t *testing.T) {
	t.Parallel()
	s, err := sim.ParseSchedule("mon-fri 08:00-18:00 3; sat,sun 10:00-12:00 1; fri 17:00-18:00 0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   time.Time
		want int
	}{
		{q0, 3},                               // Monday 09:00
		{q0.Add(-time.Hour - time.Second), 0}, // Monday 07:59:59
		{q0.Add(4*24*time.Hour + 8*time.Hour + 30*time.Minute), 0}, // Friday 17:30: the last rule wins
		{q0.Add(5*24*time.Hour + time.Hour), 1},                    // Saturday 10:00
	} {
		if got := s.At(tt.at); got != tt.want {
			t.Errorf("At(%s) = %d, want %d", tt.at.Format(time.RFC1123), got, tt.want)
		}
	}
	for _, bad := range []string{"", "mon 08:00 3", "someday 08:00-09:00 1", "mon 09:00-08:00 1", "mon 08:00-09:00 -1"} {
		if _, err := sim.ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q): no error", bad)
		}
	}
}
