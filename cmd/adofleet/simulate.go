package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

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
}

func newSimulateCmd() *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate --trace FILE",
		Short: "Replay a job trace through each scaling policy under virtual time; print wait and cost",
		Long: `simulate replays a job trace (see "adofleet trace") through the real controller and scaler
against the in-memory ADO simulator and a simulated provider, under virtual time, once per policy:
` + strings.Join(sim.PolicyNames, ", ") + `.

For each policy it prints the wait of the jobs beyond the boot time of the instance that ran them
(the delay the scaling decision added), the agent-minutes busy and idle, the cost at
--price-per-hour, the controller's ADO API calls, and the oracle lower bound: an agent started
exactly one (shortest) boot time before each job.`,
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
	_ = cmd.MarkFlagRequired("trace")
	return cmd
}

// simulateReport is the --json output.
type simulateReport struct {
	Trace        string       `json:"trace"`
	Jobs         int          `json:"jobs"`
	Boot         string       `json:"boot"`
	PricePerHour float64      `json:"pricePerHour"`
	Oracle       sim.Oracle   `json:"oracle"`
	Results      []sim.Result `json:"results"`
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
	if f.price < 0 || f.spot < 0 {
		return usage(fmt.Errorf("--price-per-hour and --spot-rate must not be negative"))
	}
	var policies []sim.Policy
	for name := range strings.SplitSeq(f.policies, ",") {
		p, err := sim.PolicyByName(strings.TrimSpace(name), sim.PolicyOptions{
			Schedule: sched, History: jobs, Quantile: f.quantile, Boot: boot})
		if err != nil {
			return usage(fmt.Errorf("--policy: %w", err))
		}
		policies = append(policies, p)
	}
	rep := simulateReport{Trace: f.trace, Jobs: len(jobs), Boot: boot.String(), PricePerHour: f.price,
		Oracle: sim.OracleFor(jobs, boot, f.price)}
	for _, p := range policies {
		res, err := sim.Run(cmd.Context(), sim.Config{Jobs: jobs, Policy: p, Boot: boot, SpotRate: f.spot,
			Seed: f.seed, Max: f.max, PricePerHour: f.price})
		if err != nil {
			return fmt.Errorf("simulate %s: %w", p.Name, err)
		}
		rep.Results = append(rep.Results, res)
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

// printSimulateTable prints one row per policy and the oracle, then what each policy is.
func printSimulateTable(w io.Writer, rep simulateReport, policies []sim.Policy) error {
	fmt.Fprintf(w, "trace %s: %d jobs, boot %s, $%.4g per instance-hour\n\n", rep.Trace, rep.Jobs, rep.Boot, rep.PricePerHour)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tjobs\twait>boot mean s\tp50 s\tp95 s\tmax s\twait p95 s\tbusy min\tidle min\tcost $\tidle $\tADO calls\t")
	for _, r := range rep.Results {
		b := r.WaitBeyondBoot
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%d\t\n",
			r.Policy, r.Jobs, b.Mean, b.P50, b.P95, b.Max, r.Wait.P95, r.BusyMinutes, r.IdleMinutes, r.Cost, r.IdleCost, r.ADOCalls)
	}
	o := rep.Oracle
	fmt.Fprintf(tw, "oracle\t%d\t0.0\t0\t0\t0\t-\t%.0f\t%.0f\t%.2f\t%.2f\t-\t\n", rep.Jobs, o.BusyMinutes, o.IdleMinutes, o.Cost, o.IdleCost)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, p := range policies {
		fmt.Fprintf(w, "%s: %s\n    source: %s\n", p.Name, p.Notes, p.Source)
	}
	for _, r := range rep.Results {
		if r.Interruptions > 0 || r.Failed > 0 {
			fmt.Fprintf(w, "%s: %d spot interruptions, %d jobs retried, %d failed at once\n", r.Policy, r.Interruptions, r.Retried, r.Failed)
		}
	}
	return nil
}
