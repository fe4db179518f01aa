package main

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/sim"
)

func newTraceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Make job traces for adofleet simulate: generate synthetic ones or export a real pool's",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTraceGenCmd(), newTraceExportCmd())
	return cmd
}

func newTraceGenCmd() *cobra.Command {
	var o sim.GenOptions
	var demands string
	cmd := &cobra.Command{
		Use:   "gen --shape steady|office-hours|bursty",
		Short: "Write a synthetic job trace to stdout",
		Long: `gen writes a synthetic trace: steady (30 jobs an hour, day and night), office-hours (weekday
peaks between 08:00 and 18:00 UTC, a batch of 40 jobs at 02:00, quiet weekends) or bursty (6 jobs an
hour and two bursts of 200 jobs a day). Durations are log-normal around 6 minutes. Day 0 is
Monday 2025-03-03.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if demands != "" {
				o.Demands = strings.Split(demands, ";")
			}
			jobs, err := sim.Generate(o)
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			return sim.WriteTrace(cmd.OutOrStdout(), jobs)
		},
	}
	cmd.Flags().StringVar(&o.Shape, "shape", sim.ShapeSteady, "steady, office-hours or bursty")
	cmd.Flags().IntVar(&o.Days, "days", 1, "days of trace")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "random seed (same seed, same trace)")
	cmd.Flags().StringVar(&o.Pool, "pool", "linux", "pool name of every job")
	cmd.Flags().StringVar(&demands, "demands", "docker", "demands of every job, separated by ;")
	return cmd
}

func newTraceExportCmd() *cobra.Command {
	var path, pool, out string
	var top int
	cmd := &cobra.Command{
		Use:   "export -c FILE --pool NAME",
		Short: "Write the finished job requests of a real pool as a trace",
		Long: `export reads a pool's finished job requests through ADO's job-requests list (at most about
200, the newest, which is all ADO returns) and writes them as a trace: queue time, run time
(finish less receive), demands and pool. Requests that never ran (canceled or failed before an
agent took them) are left out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCommandConfig(cmd, path)
			if err != nil {
				return err
			}
			if pool == "" {
				return exitCodeError{code: 2, err: fmt.Errorf("--pool is required")}
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			ctx := cmd.Context()
			ac, err := loadAWS(ctx, cfg)
			if err != nil {
				return err
			}
			secrets, err := newSecrets(ac, log)
			if err != nil {
				return err
			}
			creds, err := resolveCredentials(ctx, cfg, secrets, log)
			if err != nil {
				return err
			}
			client, err := newADOClient(cfg, creds, "", nil, nil, log)
			if err != nil {
				return err
			}
			p, err := client.FindPool(ctx, pool)
			if err != nil {
				return fmt.Errorf("trace export: %w", err)
			}
			rows, err := client.ListFinishedJobRequests(ctx, p.ID, top)
			if err != nil {
				return fmt.Errorf("trace export: %w", err)
			}
			w := cmd.OutOrStdout()
			if out != "" {
				fh, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("-o: %w", err)
				}
				defer fh.Close()
				w = fh
			}
			return writeExport(w, pool, rows)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "adofleet.yaml", "config file (the organization and its credential)")
	cmd.Flags().StringVar(&pool, "pool", "", "agent pool name")
	cmd.Flags().IntVar(&top, "top", ado.MaxJobRequestRows, "how many finished requests to ask for")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// writeExport turns finished job requests into a trace, oldest first.
func writeExport(w io.Writer, pool string, rows []ado.JobRequest) error {
	var jobs []sim.Job
	for _, r := range rows {
		if r.ReceiveTime == nil || r.FinishTime == nil || !r.FinishTime.After(*r.ReceiveTime) {
			continue // never ran on an agent
		}
		jobs = append(jobs, sim.Job{QueueTime: r.QueueTime.UTC(), Duration: r.FinishTime.Sub(*r.ReceiveTime),
			Demands: r.Demands, Pool: pool})
	}
	slices.SortStableFunc(jobs, func(a, b sim.Job) int { return cmp.Compare(a.QueueTime.UnixNano(), b.QueueTime.UnixNano()) })
	return sim.WriteTrace(w, jobs)
}
