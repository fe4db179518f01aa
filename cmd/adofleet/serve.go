package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/local"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/secret"
)

func newServeCmd() *cobra.Command {
	var path string
	var jsonLogs bool
	cmd := &cobra.Command{
		Use:   "serve -c FILE",
		Short: "Run the controller against a real ADO organization",
		Long: `serve loads the config, resolves its secret references, and runs one reconcile loop per pool
with the dashboard, /metrics, /healthz and /readyz on web.listen. It stops cleanly on SIGINT or
SIGTERM, leaving running agents to finish their jobs (they are found again by tag on the next start).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCommandConfig(cmd, path)
			if err != nil {
				return err
			}
			logger, err := newLogger(cmd.ErrOrStderr(), cfg.Controller.LogLevel, jsonLogs)
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			return runServe(cmd.Context(), cfg, logger)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "adofleet.yaml", "config file")
	cmd.Flags().BoolVar(&jsonLogs, "log-json", false, "log as JSON lines instead of text")
	return cmd
}

// runServe wires the config to the packages and runs until ctx ends.
func runServe(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	reg := newRegistry()
	// Every producer publishes through events, which drops events until notifications are
	// connected with events.set(Publisher) once the store (the outbox) is open. wait runs last:
	// a notifications stop deferred later runs before it, so defer it again after that stop.
	events := newEventSink(log)
	defer events.wait()
	b, err := openBase(ctx, cfg, baseOptions{onThrottle: events.adoThrottled}, reg, log) // base.go
	if err != nil {
		return err
	}
	ac, client, st := b.ac, b.client, b.store
	defer st.Close()
	led, err := newLeaderOnly(cfg, st, reg, log) // leader.go: what runs on the leader only
	if err != nil {
		return err
	}
	publisher, stopNotify, err := openNotify(ctx, cfg, st, b.secrets, reg, log)
	if err != nil {
		return err
	}
	defer stopNotify()
	defer events.wait() // publishes in flight finish before delivery stops
	events.set(publisher)
	providers, stopProviders, err := buildProvidersWithStop(cfg, ac, b.secrets, reg, log, provider.WithThrottleHook(events.providerThrottled))
	if err != nil {
		return err
	}
	defer stopProviders()
	chk, err := openChecks(ctx, cfg, b.secrets, client, st, events, reg, log)
	if err != nil {
		return err
	}
	defer chk.close()
	copts := newControllerOptions(cfg, b, providers, events, reg, log)
	chk.controllerOptions(&copts)
	ctrl, err := controller.New(copts)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	led.Go(func(ctx context.Context) error {
		// Placeholders are retried by every cycle; a failure here is worth a warning, not an exit.
		if err := ctrl.EnsurePlaceholders(ctx); err != nil {
			log.Warn("register placeholder agents (will retry every cycle)", "err", err)
		}
		return ctrl.Run(ctx)
	})
	if err := startHousekeeping(led, cfg, st, reg, log); err != nil { // store.go
		return err
	}
	if err := startCloudWatch(led, cfg, ac, ctrl, reg, log); err != nil {
		return err
	}
	guards, err := newListenerGuards(ctx, cfg, b.secrets, reg, log) // security.go
	if err != nil {
		return err
	}
	mounts, err := chk.start(ctx, cfg, ctrl, reg, log)
	if err != nil {
		return err
	}
	mounts = guards.endpoint("checks", guards.checks, mounts)
	led.Go(chk.run)
	hookMounts, err := openHooks(ctx, cfg, ac, b.secrets, events, ctrl, reg, log)
	if err != nil {
		return err
	}
	mounts = append(mounts, guards.endpoint("hooks", guards.hooks, hookMounts)...)
	vmr, err := startVMResources(ctx, led, cfg, ac, client, st, events, reg, log)
	if err != nil {
		return err
	}
	defer vmr.stop()
	if cfg.Web.Enabled() { // checks' start refuses to run with web off
		dash := dashboard{ctrl: ctrl, store: st, prices: cfg.CostPerHour(), currency: cfg.Web.CostCurrency(), guard: guards.dashboard}
		addr, err := startWeb(ctx, cfg.Web.Listen, "adofleet", dash, reg, led.ready(readiness(ctrl)), log, mounts...)
		if err != nil {
			return err
		}
		log.Info("dashboard ready", "url", "http://"+addr+"/")
	}
	log.Info("adofleet serving", "version", version, "pools", len(cfg.Pools), "controller", cfg.Controller.ID,
		"leaderElection", cfg.Controller.LeaderElection.Elects())
	return led.run(ctx) // until ctx ends; every loop has returned when it does
}

// readiness is ready once every pool has reconciled at least once without an error.
func readiness(ctrl *controller.Controller) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := ctrl.Status(ctx)
		if err != nil {
			return err
		}
		for _, p := range st.Pools {
			if p.LastReconcile.IsZero() {
				return fmt.Errorf("pool %s has not reconciled yet", p.Name)
			}
			if p.LastError != "" {
				return fmt.Errorf("pool %s: last reconcile failed", p.Name)
			}
		}
		return nil
	}
}

// buildProviders registers the configured providers; ac is nil when no AWS part is configured,
// and secrets resolves the providers' secret references (the aci registry password).
func buildProviders(cfg *config.Config, ac *aws.Config, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger, instrument ...provider.InstrumentOption) (*provider.Registry, error) {
	providers, _, err := buildProvidersWithStop(cfg, ac, secrets, reg, log, instrument...)
	return providers, err
}

// buildProvidersWithStop is buildProviders plus what to run at shutdown. Agents normally outlive
// serve and are found again by the next start; but the local provider with no workDir keeps its
// agents' state in a temporary directory the next start cannot know, so they would be left running
// unseen: stop terminates those.
func buildProvidersWithStop(cfg *config.Config, ac *aws.Config, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger, instrument ...provider.InstrumentOption) (providers *provider.Registry, stop func(), err error) {
	providers = provider.NewRegistry()
	stop = func() {}
	if lc := cfg.Providers.Local; lc != nil {
		llog := log.With("component", "provider", "provider", "local")
		lp, err := local.New(local.Options{
			Command: lc.Command, WorkDir: lc.WorkDir, Env: lc.Env, Controller: cfg.Controller.ID,
			Logger: llog,
		})
		if err != nil {
			return nil, stop, fmt.Errorf("providers.local: %w", err)
		}
		if err := providers.Register("local", provider.Instrument("local", lp, reg, instrument...)); err != nil {
			return nil, stop, err
		}
		if lc.WorkDir == "" {
			stop = func() {
				llog.Info("stopping local agents: providers.local.workDir is not set, so a restart could not find them")
				ctx, cancel := context.WithTimeout(context.Background(), local.DefaultTerminateGrace+5*time.Second)
				defer cancel()
				if err := lp.Close(ctx); err != nil {
					llog.Warn("stopping local agents", "err", err)
				}
			}
		}
	}
	if err := addAWSProviders(providers, cfg, ac, reg, log, instrument...); err != nil {
		return nil, stop, err
	}
	if err := addAzureProviders(providers, cfg, secrets, reg, log); err != nil {
		return nil, stop, err
	}
	if err := addKubernetesProvider(providers, cfg, reg, log, instrument...); err != nil { // kubernetes.go
		return nil, stop, err
	}
	return providers, stop, nil
}

// newControllerOptions is the controller's wiring serve and the Lambda reconcile function share:
// b's client and store, the providers, and the events every cycle publishes.
func newControllerOptions(cfg *config.Config, b *base, providers *provider.Registry, events notify.Publisher, reg prometheus.Registerer, log *slog.Logger) controller.Options {
	return controller.Options{
		ControllerID: cfg.Controller.ID, OrgURL: cfg.Organization.URL, ADO: b.client,
		Providers: providers, Store: b.store, Pools: poolConfigs(cfg),
		AgentToken: b.creds.agent.Reveal, Resync: cfg.Controller.Resync.D(), WakeInterval: cfg.Controller.WakeInterval.D(),
		MaxConcurrentCycles: cfg.Controller.MaxConcurrentCycles,
		Logger:              log, Registerer: reg, Events: events,
		JobWaitThreshold:   cfg.NotifyThresholds().JobWait.D(),
		PoolAtMaxThreshold: cfg.NotifyThresholds().PoolAtMax.D(),
	}
}

func poolConfigs(cfg *config.Config) []controller.PoolConfig {
	out := make([]controller.PoolConfig, 0, len(cfg.Pools))
	for _, p := range cfg.Pools {
		out = append(out, controller.PoolConfig{
			Name: p.Name, Provider: p.Provider, Template: p.Template, Env: p.Env,
			Resources: provider.Resources{CPU: p.Resources.CPU, Memory: p.Resources.Memory},
			Policy: scaler.Policy{
				Min: p.Min, Max: p.Max, Standby: p.Standby,
				IdleTimeout: p.IdleTimeout.D(), RegistrationTimeout: p.RegistrationTimeout.D(),
				OneJobPerAgent: p.OneJob(), Capabilities: p.Capabilities, MaxLaunchPerCycle: p.MaxLaunchPerCycle,
			},
		})
	}
	return out
}
