package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/config"
)

// gcOptions are gc's flags.
type gcOptions struct {
	apply, placeholders, terminate bool
	pools                          []string // empty: every configured pool
}

// dryRun reports whether gc only prints its plan: the default, for a command that deletes.
func (o gcOptions) dryRun() bool { return !o.apply }

func newGCCmd() *cobra.Command {
	var path string
	var jsonLogs bool
	var o gcOptions
	cmd := &cobra.Command{
		Use:   "gc -c FILE [--apply] [--placeholders] [--terminate] [--pool NAME ...]",
		Short: "Remove the agents and instances adofleet left behind (after helm uninstall or a stopped controller)",
		Long: `gc cleans up after a controller that is gone for good, for each configured pool (or each --pool).
It is a dry run unless --apply is given: it prints its plan and changes nothing (no ADO, provider
or store writes, no lease), and ends with the command that carries the plan out. With --apply:

  - it deletes from the Azure DevOps pool the offline agents adofleet created (its store's
    records, or its tagged instances, name them);
  - with --terminate it also terminates the instances adofleet launched for the pool (found by
    their tags) and deletes their agents, online or not, unless the agent runs a job;
  - with --placeholders it also deletes the pool's placeholder agent. serve keeps that offline
    agent so ADO does not fail jobs queued while the pool has no agents: without it, jobs
    queued in the pool fail at once until serve runs again and registers it.

An agent running a job (assigned a request, or reserved by one in the pool's job list) is never
touched, nor its instance, nor any agent adofleet did not create. Before it removes an online
agent gc disables it and checks again that it took no job. The store records of what it removed
are marked gone, and one store housekeeping pass (store.housekeeping) runs at the end.

The plan printed without --apply is the one --apply carries out, unless the pool changes in
between (gc observes again when it runs).

With controller.leaderElection, gc --apply takes the controller's lease for its run and refuses
to run while a controller holds it. Without leader election there is no lease to check: stop
the controller first (scale its Deployment to zero, or helm uninstall), or gc and the
controller race each other. A dry run takes no lease and may run beside a controller.

Output: one line per agent or instance ("pool: action target (why): result"), then a summary;
a dry run's lines end in "dry run", and its last line is the command to apply the plan.
Exit code 0 when everything asked succeeded; 1 when an action failed (the others still ran) or a
controller holds the lease; 2 for a bad config or flag, such as a --pool that is not configured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCommandConfig(cmd, path)
			if err != nil {
				return err
			}
			if err := checkPoolNames(cfg, o.pools); err != nil {
				return exitCodeError{code: 2, err: err}
			}
			log, err := newLogger(cmd.ErrOrStderr(), cfg.Controller.LogLevel, jsonLogs)
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			return runGC(cmd.Context(), cfg, o, cmd.OutOrStdout(), log, gcApplyCommand(path, o))
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "--dry-run") {
			// The flag of gc's first version: a dry run is the default now.
			err = fmt.Errorf("%w (gc is a dry run by default; --apply carries the plan out)", err)
		}
		return exitCodeError{code: 2, err: err}
	})
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "adofleet.yaml", "config file (the one serve runs with)")
	f.BoolVar(&o.apply, "apply", false, "carry the plan out (without it gc prints the plan and changes nothing)")
	f.BoolVar(&o.placeholders, "placeholders", false, "also delete each pool's placeholder agent (jobs queued in an empty pool then fail)")
	f.BoolVar(&o.terminate, "terminate", false, "also terminate adofleet's instances and delete their idle agents")
	f.StringArrayVar(&o.pools, "pool", nil, "only this pool (repeat for several); default every configured pool")
	f.BoolVar(&jsonLogs, "log-json", false, "log as JSON lines instead of text")
	return cmd
}

// runGC builds what serve builds (ADO client, store, providers), then observes, plans and acts
// on each selected pool, under the leader lease when election is configured.
func runGC(ctx context.Context, cfg *config.Config, o gcOptions, out io.Writer, log *slog.Logger, applyCmd string) error {
	log = log.With("component", "gc")
	reg := prometheus.NewRegistry()
	b, err := openBase(ctx, cfg, baseOptions{uaSuffix: " (gc)"}, reg, log) // base.go
	if err != nil {
		return exitCodeError{code: 1, err: err}
	}
	defer b.store.Close()
	providers, stopProviders, err := buildProvidersWithStop(cfg, b.ac, b.secrets, reg, log) // serve.go
	if err != nil {
		return exitCodeError{code: 1, err: err}
	}
	defer stopProviders()
	g := &gcRun{o: o, client: b.client, st: b.store, out: out, log: log, now: time.Now}
	work := func(ctx context.Context) {
		for _, p := range cfg.Pools {
			if len(o.pools) > 0 && !slices.Contains(o.pools, p.Name) {
				continue
			}
			prov, err := providers.Get(p.Provider)
			if err != nil {
				g.sum.failed++
				fmt.Fprintf(out, "%s: provider: failed: %v\n", p.Name, err)
				continue
			}
			g.pool(ctx, p, cfg.Controller.ID, prov)
		}
		g.housekeep(ctx, cfg)
	}
	if o.dryRun() {
		// A dry run takes no lease (a write) and changes nothing, so it cannot race anyone.
		work(ctx)
	} else if err := runUnderLease(ctx, cfg, b.store, reg, log, work); err != nil {
		return exitCodeError{code: 1, err: err} // errLeaseHeld among others: nothing was done
	}
	fmt.Fprintln(out, g.sum.String(o.dryRun()))
	if o.dryRun() {
		fmt.Fprintf(out, "gc: to carry this plan out, run: %s\n", applyCmd)
	}
	if g.sum.failed > 0 {
		return exitCodeError{code: 1, err: fmt.Errorf("gc: %s failed (see the lines above)", gcCount(g.sum.failed, "action"))}
	}
	return nil
}

// housekeep runs one store housekeeping pass with store.housekeeping's settings; a store that
// expires its rows itself (DynamoDB) has none.
func (g *gcRun) housekeep(ctx context.Context, cfg *config.Config) {
	hk, err := newHousekeeper(cfg, g.st, nil, g.log) // store.go
	switch {
	case err != nil:
		g.sum.failed++
		fmt.Fprintf(g.out, "store: housekeeping: failed: store.housekeeping: %v\n", err)
	case hk == nil:
		fmt.Fprintln(g.out, "store: no housekeeping pass (the store expires its rows itself)")
	case g.o.dryRun():
		fmt.Fprintln(g.out, "store: run one housekeeping pass: dry run")
	default:
		if err := hk.Pass(ctx); err != nil {
			g.sum.failed++
			fmt.Fprintf(g.out, "store: run one housekeeping pass: failed: %v\n", err)
			return
		}
		fmt.Fprintln(g.out, "store: run one housekeeping pass: done")
	}
}

// gcApplyCommand is the command line that carries out the plan a dry run printed: the same
// config and flags, with --apply.
func gcApplyCommand(path string, o gcOptions) string {
	args := []string{"adofleet", "gc", "-c", shellQuote(path)}
	if o.terminate {
		args = append(args, "--terminate")
	}
	if o.placeholders {
		args = append(args, "--placeholders")
	}
	for _, p := range o.pools {
		args = append(args, "--pool", shellQuote(p))
	}
	return strings.Join(append(args, "--apply"), " ")
}

// checkPoolNames fails on a --pool the config does not have, naming it and the configured ones
// (gc and status).
func checkPoolNames(cfg *config.Config, names []string) error {
	var known []string
	for _, p := range cfg.Pools {
		known = append(known, p.Name)
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return fmt.Errorf("--pool %q: no such pool in the config (pools: %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain path characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
