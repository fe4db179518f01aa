package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller/fleetops"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// statusOptions are status's flags.
type statusOptions struct {
	pools     []string // empty: every configured pool
	output    string   // table or json
	all       bool     // list foreign agents too
	decisions int      // newest decisions shown per pool
}

// defaultStatusDecisions is how many of each pool's decisions status shows by default.
const defaultStatusDecisions = 5

func newStatusCmd() *cobra.Command {
	var path string
	var jsonLogs bool
	o := statusOptions{output: "table", decisions: defaultStatusDecisions}
	cmd := &cobra.Command{
		Use:   "status -c FILE [--pool NAME ...] [-o table|json] [--all] [--decisions N]",
		Short: "Show what runs where: each pool's jobs, agents, instances and store records (read-only)",
		Long: `status reads each configured pool (or each --pool) as the controller does: the pool's agents
and job requests from Azure DevOps, adofleet's instances from the provider (by tag), and the
store's records and recent decisions. It prints, per pool, the counts (queued and running jobs;
adofleet's agents busy, idle, draining, starting and offline; its instances; max) and one row per
agent, instance or record adofleet knows: the agent's status in Azure DevOps, the job request it
runs and since when, its instance and the instance's state, the record's state and age, and
flags for what looks wrong:

  offline       an agent (not the placeholder) is offline
  no-instance   an agent adofleet created has no live instance
  unregistered  an instance has no agent in the pool past the pool's registrationTimeout
  lost          a store record whose agent and instance are both gone

Agents adofleet did not create are counted, and listed with --all. adofleet gc removes what the
first two flags and the last mark; serve does that itself while it runs.

status only reads: it changes nothing in Azure DevOps, the provider or the store, takes no
leader lease, and runs beside a running controller. Secrets are never printed.

-o json prints a stable document for scripts (docs/status.md describes each field).
Exit code 0 when every pool was read; 1 when some pool could not be read (the others are still
printed, and the pool's "error" says why); 2 for a bad config or flag, such as an unknown --pool.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.output != "table" && o.output != "json" {
				return exitCodeError{code: 2, err: fmt.Errorf("-o %q: want table or json", o.output)}
			}
			if o.decisions < 0 {
				return exitCodeError{code: 2, err: fmt.Errorf("--decisions %d: want 0 or more", o.decisions)}
			}
			cfg, err := loadCommandConfig(cmd, path)
			if err != nil {
				return err
			}
			if err := checkPoolNames(cfg, o.pools); err != nil { // gc.go
				return exitCodeError{code: 2, err: err}
			}
			log, err := newLogger(cmd.ErrOrStderr(), cfg.Controller.LogLevel, jsonLogs)
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			return runStatus(cmd.Context(), cfg, o, cmd.OutOrStdout(), log, time.Now)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitCodeError{code: 2, err: err} })
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "adofleet.yaml", "config file (the one serve runs with)")
	f.StringArrayVar(&o.pools, "pool", nil, "only this pool (repeat for several); default every configured pool")
	f.StringVarP(&o.output, "output", "o", o.output, "table (for people) or json (for scripts)")
	f.BoolVar(&o.all, "all", false, "also list the agents adofleet did not create (always counted)")
	f.IntVar(&o.decisions, "decisions", o.decisions, "how many of each pool's newest decisions to show (0: none)")
	f.BoolVar(&jsonLogs, "log-json", false, "log as JSON lines instead of text")
	return cmd
}

// statusStore is the part of the store status reads.
type statusStore interface {
	fleetops.RecordLister
	ListDecisions(ctx context.Context, pool string, limit int) ([]store.Decision, error)
}

// noRecords stands in for a SQLite store whose file does not exist: opening it would create it.
type noRecords struct{}

func (noRecords) ListAgents(context.Context, string, ...store.AgentState) ([]store.AgentRecord, error) {
	return nil, nil
}

func (noRecords) ListDecisions(context.Context, string, int) ([]store.Decision, error) {
	return nil, nil
}

// runStatus builds what serve builds (ADO client, providers, store), reads each selected pool and
// prints the result. Only reads: no lease, no write.
// statusReaders is how many pools status reads at once.
const statusReaders = 8

func runStatus(ctx context.Context, cfg *config.Config, o statusOptions, out io.Writer, log *slog.Logger, now func() time.Time) error {
	log = log.With("component", "status")
	reg := prometheus.NewRegistry()
	ac, err := loadAWS(ctx, cfg)
	if err != nil {
		return exitCodeError{code: 1, err: err}
	}
	secrets, err := newSecrets(ac, log)
	if err != nil {
		return exitCodeError{code: 1, err: err}
	}
	b := &base{ac: ac, secrets: secrets}
	if err := b.connectADO(ctx, cfg, baseOptions{uaSuffix: " (status)"}, reg, log); err != nil { // base.go
		return exitCodeError{code: 1, err: err}
	}
	st, closeStore, err := openStatusStore(ctx, cfg, b, reg, log)
	if err != nil {
		return exitCodeError{code: 1, err: err}
	}
	defer closeStore()
	providers, stopProviders, err := buildProvidersWithStop(cfg, ac, secrets, reg, log) // serve.go
	if err != nil {
		return exitCodeError{code: 1, err: err}
	}
	defer stopProviders()

	doc := statusDoc{Version: statusVersion, GeneratedAt: now().UTC(), Controller: cfg.Controller.ID, Pools: []statusPool{}}
	// The pools are read statusReaders at a time (each is three or four API calls, so a
	// 100-pool fleet would take a while one by one) and printed in the config's order.
	var pools []config.Pool
	for _, p := range cfg.Pools {
		if len(o.pools) == 0 || slices.Contains(o.pools, p.Name) {
			pools = append(pools, p)
		}
	}
	read := make([]statusPool, len(pools))
	var wg sync.WaitGroup
	sem := make(chan struct{}, statusReaders)
	for i, p := range pools {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			read[i] = readStatusPool(ctx, p, cfg.Controller.ID, b, providers, st, o, now())
		})
	}
	wg.Wait()
	failed := 0
	for _, sp := range read {
		if sp.Error != "" {
			failed++
			log.Warn("could not read the pool", "pool", sp.Name, "err", sp.Error)
		}
		doc.Pools = append(doc.Pools, sp)
	}
	if o.output == "json" {
		err = writeStatusJSON(out, doc)
	} else {
		err = writeStatusTable(out, doc, o.all)
	}
	if err != nil {
		return exitCodeError{code: 1, err: fmt.Errorf("status: write the output: %w", err)}
	}
	if failed > 0 {
		return exitCodeError{code: 1, err: fmt.Errorf("status: %s could not be read (see its error above)", gcCount(failed, "pool"))}
	}
	return nil
}

// readStatusPool observes one pool and adds its recent decisions; what failed is in Error.
func readStatusPool(ctx context.Context, p config.Pool, controllerID string, b *base, providers *provider.Registry, st statusStore, o statusOptions, now time.Time) statusPool {
	failed := func(err error) statusPool {
		return statusPool{Name: p.Name, Provider: p.Provider, Max: p.Max, Error: err.Error(), Rows: []fleetops.Row{}, Decisions: []statusDecision{}}
	}
	prov, err := providers.Get(p.Provider)
	if err != nil {
		return failed(fmt.Errorf("provider: %w", err))
	}
	v, err := fleetops.Observe(ctx, fleetops.Deps{ADO: b.client, Provider: prov, Store: st, ControllerID: controllerID}, p.Name)
	if err != nil {
		return failed(err)
	}
	sp := buildStatusPool(p, v, now, o.all)
	if o.decisions > 0 {
		ds, err := st.ListDecisions(ctx, p.Name, o.decisions)
		if err != nil {
			sp.Error = fmt.Sprintf("list decisions of pool %q: %v", p.Name, err)
		}
		sp.Decisions = statusDecisions(ds)
	}
	return sp
}

// openStatusStore opens the configured store for reading only: nothing is created or migrated.
// A SQLite file that does not exist has no records, and is not created.
func openStatusStore(ctx context.Context, cfg *config.Config, b *base, reg prometheus.Registerer, log *slog.Logger) (statusStore, func(), error) {
	if l := cfg.Store.SQLite; l != nil && cfg.Store.DynamoDB == nil && cfg.Store.Postgres == nil {
		if _, err := os.Stat(l.Path); errors.Is(err, fs.ErrNotExist) {
			log.Warn("the store has no file yet: no records to show", "path", l.Path)
			return noRecords{}, func() {}, nil
		}
	}
	st, err := openStoreReadOnly(ctx, cfg, b.ac, b.secrets, reg, log) // store.go
	if err != nil {
		return nil, nil, err
	}
	return st, func() { _ = st.Close() }, nil
}
