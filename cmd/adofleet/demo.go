package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/housekeep"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/local"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

const (
	demoPool       = "demo"
	demoController = "adofleet-demo"
	// demoCostPerHour prices the demo's agents for the dashboard's cost estimate: a small
	// on-demand instance's hourly price, so the numbers look like a real fleet's.
	demoCostPerHour = 0.0416
	// demoPATEnv, when set, is the PAT the demo's simulator accepts instead of a random one: for
	// the test that checks it never leaks, or to call the simulator by hand. Deliberately not a
	// flag, so it stays out of ps and shell history.
	demoPATEnv = "ADOFLEET_DEMO_PAT"
)

// demoOptions shape the demo's workload and pool.
type demoOptions struct {
	listen      string
	jobs        int
	json        bool
	rate        float64
	minDuration time.Duration
	maxDuration time.Duration
	bootTime    time.Duration
	max         int
	standby     int
	idleTimeout time.Duration
	resync      time.Duration
	seed        uint64
	timeout     time.Duration
	stateDir    string
	logLevel    string
	// For soak runs (demo_faults.go).
	faults         string
	duration       time.Duration
	pprof          bool
	goneRetention  time.Duration
	capBackoff     time.Duration
	housekeepEvery time.Duration
	keepDecisions  int
}

func newDemoCmd() *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything embedded: ADO simulator, job generator, controller, local agents, dashboard",
		Long: `demo runs adofleet end to end with no cloud account and no ADO organization: an ADO
simulator with the real wire contract, a job generator, the controller scaling a pool with the local
provider (each agent a child process running a simulated agent that takes one job and exits), the
SQLite store, and the dashboard and /metrics.

With --jobs N it stops after N jobs have finished and every agent has left the pool, prints a
summary and exits 0, or 1 if any job was lost, ran twice, or an agent was left behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", `dashboard and /metrics address ("off" to disable)`)
	f.IntVar(&o.jobs, "jobs", 0, "stop after this many jobs have finished and print a summary (0 = run until interrupted)")
	f.BoolVar(&o.json, "json", false, "print the summary as JSON")
	f.Float64Var(&o.rate, "rate", 2, "job arrivals per second (Poisson)")
	f.DurationVar(&o.minDuration, "min-duration", 1*time.Second, "shortest job")
	f.DurationVar(&o.maxDuration, "max-duration", 4*time.Second, "longest job")
	f.DurationVar(&o.bootTime, "boot-time", 1*time.Second, "simulated time for an agent's machine to boot before it registers")
	f.IntVar(&o.max, "max", 10, "most agents at once (the pool's licence cap)")
	f.IntVar(&o.standby, "standby", 0, "idle agents kept ready")
	f.DurationVar(&o.idleTimeout, "idle-timeout", 10*time.Second, "drain idle agents above standby after this")
	f.DurationVar(&o.resync, "resync", 2*time.Second, "reconcile timer (each queued job also wakes the controller)")
	f.Uint64Var(&o.seed, "seed", 1, "random seed of the job generator")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "with --jobs, give up after this long")
	f.StringVar(&o.stateDir, "state-dir", "", "where the SQLite file and agent work dirs go (default: a temporary directory, removed on exit)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.faults, "faults", "none", `inject faults, e.g. "moderate" or "moderate,storefail=0,late=5s" (keys: see docs/BENCHMARKS.md); seeded by --seed`)
	f.DurationVar(&o.duration, "duration", 0, "without --jobs, stop after this long and print a summary (0 = run until interrupted)")
	f.BoolVar(&o.pprof, "pprof", false, "serve /debug/pprof on the --listen address")
	f.DurationVar(&o.capBackoff, "capacity-backoff", 0, "how long the pool stops launching after \"insufficient capacity\" (0 = the controller's default, 2m)")
	f.DurationVar(&o.goneRetention, "gone-retention", 0, "how long ended agents' records and working dirs are kept (0 = the defaults: 1h for records, 10m for dirs); a soak shortens it to reach its steady state sooner")
	f.DurationVar(&o.housekeepEvery, "housekeeping-interval", demoHousekeepEvery, "how often the store is pruned (store.housekeeping.interval)")
	f.IntVar(&o.keepDecisions, "housekeeping-decisions", 0, "decisions kept per pool (store.housekeeping.decisionsPerPool; 0 = its default, 10000); a soak lowers it so that the store reaches its steady size within the run")
	return cmd
}

func (o demoOptions) validate() error {
	var errs []error
	if o.jobs < 0 {
		errs = append(errs, fmt.Errorf("--jobs: want 0 or more, got %d", o.jobs))
	}
	if o.rate <= 0 {
		errs = append(errs, fmt.Errorf("--rate: want more than 0 jobs per second, got %g", o.rate))
	}
	if o.minDuration <= 0 || o.maxDuration < o.minDuration {
		errs = append(errs, fmt.Errorf("--min-duration/--max-duration: want 0 < min <= max, got %s and %s", o.minDuration, o.maxDuration))
	}
	if o.max < 1 {
		errs = append(errs, fmt.Errorf("--max: want at least 1, got %d", o.max))
	}
	if o.standby < 0 || o.standby > o.max {
		errs = append(errs, fmt.Errorf("--standby: want 0..max (%d), got %d", o.max, o.standby))
	}
	if o.bootTime < 0 {
		errs = append(errs, fmt.Errorf("--boot-time: want 0 or more, got %s", o.bootTime))
	}
	if o.idleTimeout <= 0 || o.resync <= 0 || o.timeout <= 0 {
		errs = append(errs, errors.New("--idle-timeout, --resync and --timeout must be positive"))
	}
	if o.housekeepEvery <= 0 || o.keepDecisions < 0 {
		errs = append(errs, fmt.Errorf("--housekeeping-interval, --housekeeping-decisions: want more than 0 and 0 or more, got %s and %d", o.housekeepEvery, o.keepDecisions))
	}
	if o.goneRetention < 0 || o.capBackoff < 0 {
		errs = append(errs, fmt.Errorf("--gone-retention, --capacity-backoff: want 0 or more, got %s and %s", o.goneRetention, o.capBackoff))
	}
	if o.duration < 0 || (o.duration > 0 && o.jobs > 0) {
		errs = append(errs, fmt.Errorf("--duration: want 0 or more, and not with --jobs, got %s", o.duration))
	}
	if _, err := newDemoFaults(o.faults, o.seed); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// demo is the running embedded system.
type demo struct {
	opts   demoOptions
	log    *slog.Logger
	org    *adosim.Org
	ctrl   *controller.Controller
	local  *local.Provider
	prov   provider.Provider
	store  store.Store
	faults *demoFaults // nil without --faults
	// housekeeping keeps the demo's store from growing with every decision of an open-ended run
	// (a soak makes about two a job), as serve's does.
	housekeeping *housekeep.Housekeeper
	tally        jobTally
	closer       []func()
}

func (d *demo) close() {
	for i := len(d.closer) - 1; i >= 0; i-- {
		d.closer[i]()
	}
}

func runDemo(ctx context.Context, cmd *cobra.Command, o demoOptions) error {
	if err := o.validate(); err != nil {
		return exitCodeError{code: 2, err: err}
	}
	logger, err := newLogger(cmd.ErrOrStderr(), o.logLevel, false)
	if err != nil {
		return exitCodeError{code: 2, err: err}
	}
	d, err := startDemo(ctx, o, logger)
	if d != nil {
		defer d.close()
	}
	if err != nil {
		return err
	}
	return d.run(ctx, cmd.OutOrStdout())
}

// startDemo wires the simulator, store, provider, controller and dashboard together.
func startDemo(ctx context.Context, o demoOptions, log *slog.Logger) (*demo, error) {
	d := &demo{opts: o, log: log}
	dir := o.stateDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "adofleet-demo-")
		if err != nil {
			return d, fmt.Errorf("state dir: %w", err)
		}
		dir = tmp
		d.closer = append(d.closer, func() { _ = os.RemoveAll(tmp) })
	}
	pat := os.Getenv(demoPATEnv)
	if pat == "" {
		pat = randomToken()
	}
	reg := newRegistry()

	d.org = adosim.NewOrg(adosim.OrgOptions{Name: "demo", Seed: o.seed, Logger: log.With("component", "adosim")})
	if _, err := d.org.AddPool(demoPool); err != nil {
		return d, fmt.Errorf("simulator: add pool: %w", err)
	}
	sim, err := adosim.NewServer(d.org, adosim.ServerOptions{PAT: pat, Logger: log.With("component", "adosim")}).Start("127.0.0.1:0")
	if err != nil {
		return d, fmt.Errorf("simulator: %w", err)
	}
	d.closer = append(d.closer, func() { _ = sim.Close() })
	ctrlURL, httpClient := sim.URL, (*http.Client)(nil)
	if d.faults, err = newDemoFaults(o.faults, o.seed); err != nil {
		return d, err
	}
	if d.faults != nil {
		if ctrlURL, httpClient, err = d.faults.startControllerSim(d.org, pat, d); err != nil {
			return d, err
		}
	}

	client, err := ado.New(ado.Options{OrgURL: ctrlURL, PAT: pat, HTTPClient: httpClient, Timeout: 10 * time.Second, Logger: log.With("component", "ado"), Registerer: reg})
	if err != nil {
		return d, fmt.Errorf("ado client: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "adofleet.db"), sqlite.Options{})
	if err != nil {
		return d, fmt.Errorf("store: %w", err)
	}
	d.store = st
	d.closer = append(d.closer, func() { _ = st.Close() })
	if d.housekeeping, err = housekeep.New(st, housekeep.Options{Interval: o.housekeepEvery, FirstDelay: o.housekeepEvery,
		DecisionsPerPool: o.keepDecisions, Logger: log, Registerer: reg}); err != nil {
		return d, fmt.Errorf("store housekeeping: %w", err)
	}

	exe, err := os.Executable()
	if err != nil {
		return d, fmt.Errorf("find the adofleet binary for the simulated agents: %w", err)
	}
	lp, err := local.New(local.Options{
		Command: []string{exe, "agent-sim"}, WorkDir: filepath.Join(dir, "agents"),
		Controller: demoController, Logger: log.With("component", "provider", "provider", "local"),
		Env:       map[string]string{"ADOFLEET_LOG_LEVEL": "warn", "ADOFLEET_SIM_BOOT_DELAY": o.bootTime.String()},
		Retention: o.goneRetention,
	})
	if err != nil {
		return d, fmt.Errorf("local provider: %w", err)
	}
	d.local = lp
	d.closer = append(d.closer, func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = lp.Close(closeCtx)
	})
	d.prov = provider.Instrument("local", d.faults.provider(lp), reg)

	d.ctrl, err = controller.New(controller.Options{
		ControllerID: demoController, OrgURL: sim.URL, ADO: client,
		Providers: controller.ProviderMap{"local": d.prov}, Store: d.faults.store(st),
		Pools: []controller.PoolConfig{{Name: demoPool, Provider: "local", Policy: scaler.Policy{
			Min: 0, Max: o.max, Standby: o.standby, IdleTimeout: o.idleTimeout,
			RegistrationTimeout: time.Minute, OneJobPerAgent: true,
			Capabilities: map[string]string{"Agent.OS": "Linux"},
		}}},
		AgentToken: func() string { return pat },
		Resync:     o.resync, Logger: log, Registerer: reg, GoneRetention: o.goneRetention,
		CapacityBackoff: o.capBackoff,
	})
	if err != nil {
		return d, fmt.Errorf("controller: %w", err)
	}
	if err := d.ctrl.EnsurePlaceholders(ctx); err != nil {
		return d, fmt.Errorf("register placeholder agents: %w", err)
	}
	if err := registerDemoMetrics(reg, d); err != nil {
		return d, fmt.Errorf("demo metrics: %w", err)
	}
	if o.listen != "off" {
		dash := dashboard{ctrl: d.ctrl, store: st, prices: map[string]float64{demoPool: demoCostPerHour}}
		addr, err := startWeb(ctx, o.listen, "adofleet demo", dash, reg, nil, log, pprofMounts(o.pprof)...)
		if err != nil {
			return d, err
		}
		log.Info("dashboard ready", "url", "http://"+addr+"/", "metrics", "http://"+addr+"/metrics")
	}
	log.Info("demo started", "simulator", sim.URL, "pool", demoPool, "max", o.max, "rate_per_s", o.rate, "state_dir", dir, "faults", d.faults != nil)
	return d, nil
}

// demoHousekeepEvery is the demo's store.housekeeping.interval: shorter than serve's hour, since
// a demo runs minutes to hours.
const demoHousekeepEvery = 10 * time.Minute

func randomToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
