package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/sim"
)

// simulateFlags are `adofleet simulate`'s options.
type simulateFlags struct {
	trace    string
	policies string
	price    float64
	plot     string
	json     bool
	boot     string
	spot     float64
	seed     uint64
	max      int
	schedule string
	quantile float64
	train    int
	cycle    time.Duration
}

func newSimulateCmd() *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate --trace FILE",
		Short: "Replay a job trace through each scaling policy under virtual time; print wait and cost",
		Long: `simulate replays a job trace (see "adofleet trace") through the real controller and scaler
against the in-memory ADO simulator and a simulated provider, under virtual time, once per policy:
` + strings.Join(sim.PolicyNames, ", ") + `.

Each job's wait is compared with its wait under the ideal launcher, run on the same trace with the
same boot draws (a job's agent boots in the same time in every run): one agent launched the
instant each job is queued, no standby. "wait>ideal" is the difference (never below 0): what the
policy added. "wait-boot" is the wait less the boot of the agent that ran the job, which also
counts ADO handing the oldest job to whichever agent comes online first. For each policy it prints
those, the plain wait, agent-minutes busy and idle, the cost at --price-per-hour, the controller's
ADO API calls, cycles and wake-ups, then the ideal launcher and the oracle lower bound (an agent
started exactly one shortest boot before each job).

With --train-days N, the first N days of the trace are only learned from (by adofleet-predictive)
and every policy is scored on the rest; without it, adofleet-predictive learns from the very jobs
it is scored on, which flatters it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulate(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.trace, "trace", "", "job trace CSV (queue_time,duration,demands,pool)")
	fl.StringVar(&f.policies, "policy", strings.Join(sim.PolicyNames, ","), "comma-separated policies to run")
	fl.Float64Var(&f.price, "price-per-hour", 0.05, "price of one instance-hour, in dollars")
	fl.StringVar(&f.plot, "plot", "", "write an SVG of wait against cost to this file")
	fl.BoolVar(&f.json, "json", false, "print the results as JSON instead of a table")
	fl.StringVar(&f.boot, "boot", "fargate", "boot-time distribution: fargate (40-90s), ec2 (60-180s) or MIN-MAX")
	fl.Float64Var(&f.spot, "spot-rate", 0, "spot interruptions per instance-hour")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the boot and interruption draws")
	fl.IntVar(&f.max, "max", 500, "each pool's max agents (licence cap)")
	fl.StringVar(&f.schedule, "schedule", sim.DefaultSchedule, "adofleet-schedule's standby rules (UTC), e.g. \"mon-fri 08:00-18:00 3\"")
	fl.Float64Var(&f.quantile, "quantile", 0.9, "adofleet-predictive's cost/wait knob: the quantile of past demand kept on standby (0..1)")
	fl.IntVar(&f.train, "train-days", 0, "learn from the first N days of the trace, score every policy on the rest (0: learn in-sample)")
	fl.DurationVar(&f.cycle, "cycle-time", sim.DefaultCycleTime, "time a controller cycle takes before it launches (its observe calls)")
	_ = cmd.MarkFlagRequired("trace")
	return cmd
}

// simulateReport is the --json output.
type simulateReport struct {
	Trace string `json:"trace"`
	// Jobs are those scored; TrainJobs those before --train-days' cut, only learned from.
	Jobs         int          `json:"jobs"`
	TrainDays    int          `json:"trainDays,omitempty"`
	TrainJobs    int          `json:"trainJobs,omitempty"`
	CycleTime    string       `json:"cycleTime"`
	Boot         string       `json:"boot"`
	PricePerHour float64      `json:"pricePerHour"`
	Oracle       sim.Oracle   `json:"oracle"`
	Results      []sim.Result `json:"results"`
	Ideal        sim.Result   `json:"ideal"`
}

func runSimulate(cmd *cobra.Command, f simulateFlags) error {
	usage := func(err error) error { return exitCodeError{code: 2, err: err} }
	file, err := os.Open(f.trace)
	if err != nil {
		return usage(fmt.Errorf("--trace: %w", err))
	}
	jobs, err := sim.ParseTrace(file)
	_ = file.Close()
	if err != nil {
		return usage(fmt.Errorf("%s: %w", f.trace, err))
	}
	if len(jobs) == 0 {
		return usage(fmt.Errorf("%s: the trace has no jobs", f.trace))
	}
	boot, err := sim.ParseBoot(f.boot)
	if err != nil {
		return usage(fmt.Errorf("--boot: %w", err))
	}
	sched, err := sim.ParseSchedule(f.schedule)
	if err != nil {
		return usage(fmt.Errorf("--schedule: %w", err))
	}
	if f.price < 0 || f.spot < 0 || f.train < 0 || f.cycle < 0 {
		return usage(fmt.Errorf("--price-per-hour, --spot-rate, --train-days and --cycle-time must not be negative"))
	}
	history := jobs
	if f.train > 0 {
		if history, jobs, err = sim.SplitTrace(jobs, f.train); err != nil {
			return usage(fmt.Errorf("--train-days: %w", err))
		}
	}
	var policies []sim.Policy
	for name := range strings.SplitSeq(f.policies, ",") {
		p, err := sim.PolicyByName(strings.TrimSpace(name), sim.PolicyOptions{
			Schedule: sched, History: history, Quantile: f.quantile, Boot: boot})
		if err != nil {
			return usage(fmt.Errorf("--policy: %w", err))
		}
		policies = append(policies, p)
	}
	rep := simulateReport{Trace: f.trace, Jobs: len(jobs), Boot: boot.String(), PricePerHour: f.price,
		CycleTime: f.cycle.String(), Oracle: sim.OracleFor(jobs, boot, f.price)}
	if f.train > 0 {
		rep.TrainDays, rep.TrainJobs = f.train, len(history)
	}
	cycle := f.cycle
	if cycle == 0 {
		cycle = -1 // none; sim.Config reads 0 as the default
	}
	runOne := func(p sim.Policy) (sim.Result, error) {
		res, err := sim.Run(cmd.Context(), sim.Config{Jobs: jobs, Policy: p, Boot: boot, SpotRate: f.spot,
			Seed: f.seed, Max: f.max, PricePerHour: f.price, CycleTime: cycle})
		if err != nil {
			return res, fmt.Errorf("simulate %s: %w", p.Name, err)
		}
		return res, nil
	}
	for _, p := range policies {
		res, err := runOne(p)
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, res)
	}
	if rep.Ideal, err = runOne(sim.IdealPolicy()); err != nil {
		return err
	}
	if f.plot != "" {
		if err := writePlot(f.plot, rep.Results); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printSimulateTable(out, rep, policies)
}

func writePlot(path string, results []sim.Result) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	if err := sim.PlotSVG(fh, results); err != nil {
		_ = fh.Close()
		return fmt.Errorf("--plot %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("--plot %s: %w", path, err)
	}
	return nil
}

// printSimulateTable prints one row per policy, the ideal launcher and the oracle, then what each
// policy is.
func printSimulateTable(w io.Writer, rep simulateReport, policies []sim.Policy) error {
	fmt.Fprintf(w, "trace %s: %d jobs scored", rep.Trace, rep.Jobs)
	if rep.TrainDays > 0 {
		fmt.Fprintf(w, " (the %d jobs of the first %d days only learned from)", rep.TrainJobs, rep.TrainDays)
	}
	fmt.Fprintf(w, ", boot %s, cycle %s, $%.4g per instance-hour\n\n", rep.Boot, rep.CycleTime, rep.PricePerHour)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tjobs\twait>ideal mean s\tp50 s\tp95 s\tmax s\twait-boot p95 s\twait p95 s\tbusy min\tidle min\tcost $\tidle $\tADO calls\tcycles\twake-ups\twake cycles\t")
	row := func(r sim.Result) {
		b := r.WaitBeyondIdeal
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t\n",
			r.Policy, r.Jobs, b.Mean, b.P50, b.P95, b.Max, r.WaitBeyondBoot.P95, r.Wait.P95, r.BusyMinutes, r.IdleMinutes,
			r.Cost, r.IdleCost, r.ADOCalls, r.Cycles, r.Wakeups, r.WakeCycles)
	}
	for _, r := range rep.Results {
		row(r)
	}
	row(rep.Ideal)
	o := rep.Oracle
	fmt.Fprintf(tw, "oracle\t%d\t-\t-\t-\t-\t0\t-\t%.0f\t%.0f\t%.2f\t%.2f\t-\t-\t-\t-\t\n", rep.Jobs, o.BusyMinutes, o.IdleMinutes, o.Cost, o.IdleCost)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, p := range append(policies, sim.IdealPolicy()) {
		fmt.Fprintf(w, "%s: %s\n    source: %s\n", p.Name, p.Notes, p.Source)
	}
	for _, r := range append(rep.Results, rep.Ideal) {
		if r.Interruptions > 0 || r.Failed > 0 {
			fmt.Fprintf(w, "%s: %d spot interruptions, %d jobs retried, %d failed at once\n", r.Policy, r.Interruptions, r.Retried, r.Failed)
		}
	}
	return nil
}
