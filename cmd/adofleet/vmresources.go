package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/vmresource"
)

// vmAWS are the AWS clients vmResources uses, in its region and with its endpoint overrides.
type vmAWS struct {
	ec2 *ec2sdk.Client
	asg *autoscaling.Client
	sqs *sqs.Client
}

func newVMAWS(v *config.VMResources, ac *aws.Config) (vmAWS, error) {
	if ac == nil {
		return vmAWS{}, errors.New("vmResources: no AWS config loaded")
	}
	rc := regional(ac, v.Region)
	endpoint := func(url string) *string {
		if url == "" {
			return nil
		}
		return aws.String(url)
	}
	return vmAWS{
		ec2: ec2sdk.NewFromConfig(rc, func(o *ec2sdk.Options) { o.BaseEndpoint = endpoint(v.EC2Endpoint) }),
		asg: autoscaling.NewFromConfig(rc, func(o *autoscaling.Options) { o.BaseEndpoint = endpoint(v.AutoScalingEndpoint) }),
		sqs: sqs.NewFromConfig(rc, func(o *sqs.Options) { o.BaseEndpoint = endpoint(v.SQSEndpoint) }),
	}, nil
}

// vmTargets maps the configured environments to the manager's targets.
func vmTargets(v *config.VMResources) []vmresource.Target {
	out := make([]vmresource.Target, 0, len(v.Environments))
	for _, e := range v.Environments {
		out = append(out, vmresource.Target{
			Project: e.Project, Environment: e.Environment,
			AutoScalingGroups: e.AutoScalingGroups, Tags: e.Tags,
		})
	}
	return out
}

// vmParts are what newVMResources builds: the manager and the consumer feeding it.
type vmParts struct {
	manager  *vmresource.Manager
	consumer *vmresource.Consumer
}

// newVMResources builds the manager and its consumer from cfg.vmResources (which must be set).
// dryRun adds to the config's own dryRun; events may be nil.
func newVMResources(cfg *config.Config, ac *aws.Config, client vmresource.ADO, st store.VMResources, events notify.Publisher, dryRun bool, reg prometheus.Registerer, log *slog.Logger) (vmParts, error) {
	v := cfg.VMResources
	clients, err := newVMAWS(v, ac)
	if err != nil {
		return vmParts{}, err
	}
	m, err := vmresource.New(vmresource.Options{
		ADO: client, EC2: clients.ec2, AutoScaling: clients.asg, Store: st,
		Targets: vmTargets(v), Events: events, DryRun: dryRun || v.DryRun, RecordTTL: v.RecordTTL.D(),
		Logger: log, Registerer: reg,
	})
	if err != nil {
		return vmParts{}, fmt.Errorf("vmResources: %w", err)
	}
	c := &vmresource.Consumer{
		SQS: clients.sqs, QueueURL: v.QueueURL, DeadLetterURL: v.DeadLetterQueueURL,
		MaxReceives: v.MaxReceives, VisibilityTimeout: v.VisibilityTimeout.D(),
		Manager: m, Logger: log,
	}
	return vmParts{manager: m, consumer: c}, nil
}

// vmRunning is the vmResources part of serve that runs on every replica: the queue consumer (the
// reconcile timer runs on the leader only).
type vmRunning struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// stop ends the consumer and returns once it has (a batch being handled is finished first), so
// the store it writes is closed after it. A nil receiver (not configured) returns at once.
func (r *vmRunning) stop() {
	if r != nil {
		r.cancel()
		r.wg.Wait()
	}
}

// startVMResources starts the consumer (when queueUrl is set) until ctx ends, and adds the
// reconcile loop to what runs on the leader only; nil when vmResources is not configured.
func startVMResources(ctx context.Context, led *leaderOnly, cfg *config.Config, ac *aws.Config, client vmresource.ADO, st store.VMResources, events notify.Publisher, reg prometheus.Registerer, log *slog.Logger) (*vmRunning, error) {
	v := cfg.VMResources
	if v == nil {
		return nil, nil
	}
	parts, err := newVMResources(cfg, ac, client, st, events, false, reg, log)
	if err != nil {
		return nil, err
	}
	log = log.With("component", "vmresource")
	ctx, cancel := context.WithCancel(ctx)
	r := &vmRunning{cancel: cancel}
	if v.QueueURL != "" {
		r.wg.Go(func() {
			if err := parts.consumer.Run(ctx); err != nil {
				log.Error("lifecycle queue consumer stopped", "err", err)
			}
		})
	} else {
		log.Info("vmResources.queueUrl is not set: VM resources are only reconciled on the timer", "interval", v.ReconcileInterval.D())
	}
	led.Go(func(ctx context.Context) error {
		reconcileVMLoop(ctx, parts.manager, v.ReconcileInterval.D(), log)
		return nil
	})
	log.Info("Environment VM resources followed", "environments", len(v.Environments), "queue", v.QueueURL != "", "dryRun", v.DryRun)
	return r, nil
}

// reconcileVMLoop reconciles at once, then every interval, until ctx ends.
func reconcileVMLoop(ctx context.Context, m *vmresource.Manager, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := m.Reconcile(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("VM resource reconcile had errors (will retry next interval)", "err", err,
				"removed", len(rep.Removed), "missing", len(rep.Missing))
		case len(rep.Removed) > 0 || len(rep.Missing) > 0:
			log.Info("VM resource reconcile", "removed", len(rep.Removed), "missing", len(rep.Missing), "dryRun", rep.DryRun)
		default:
			log.Debug("VM resource reconcile: every environment matches its groups")
		}
		for _, x := range rep.Missing {
			log.Warn("running instance has no VM resource in its environment", "instance", x.InstanceID,
				"group", x.AutoScalingGroup, "project", x.Project, "environment", x.Environment)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newVMResourcesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vmresources",
		Short: "Environment VM resources that follow Auto Scaling groups",
	}
	var path string
	var dryRun, jsonLogs bool
	reconcile := &cobra.Command{
		Use:   "reconcile -c FILE [--dry-run]",
		Short: "Reconcile the configured Environments with their Auto Scaling groups once and print the report",
		Long: `reconcile removes every VM resource (and its hidden agent) of a configured Environment whose
instance no longer exists, and reports every running instance of a configured group that is
missing from its Environment. With --dry-run (or vmResources.dryRun) it only prints what it would
do. The exit code is 1 when part of the reconcile failed (the report says which).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadCommandConfig(cmd, path)
			if err != nil {
				return err
			}
			if cfg.VMResources == nil {
				return exitCodeError{code: 2, err: fmt.Errorf("%s has no vmResources section", path)}
			}
			log, err := newLogger(cmd.ErrOrStderr(), cfg.Controller.LogLevel, jsonLogs)
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			rep, err := reconcileVMOnce(cmd.Context(), cfg, dryRun, log)
			if rep != nil {
				fmt.Fprint(cmd.OutOrStdout(), rep.String())
			}
			if err != nil {
				return exitCodeError{code: 1, err: err}
			}
			return nil
		},
	}
	reconcile.Flags().StringVarP(&path, "config", "c", "adofleet.yaml", "config file")
	reconcile.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be done; change nothing")
	reconcile.Flags().BoolVar(&jsonLogs, "log-json", false, "log as JSON lines instead of text")
	cmd.AddCommand(reconcile)
	return cmd
}

// reconcileVMOnce builds what serve would (ADO client, store, manager) and reconciles once. The
// report is nil when nothing could be reconciled.
func reconcileVMOnce(ctx context.Context, cfg *config.Config, dryRun bool, log *slog.Logger) (*vmresource.Report, error) {
	reg := prometheus.NewRegistry()
	b, err := openBase(ctx, cfg, baseOptions{}, reg, log) // base.go
	if err != nil {
		return nil, err
	}
	defer b.store.Close()
	parts, err := newVMResources(cfg, b.ac, b.client, b.store, nil, dryRun, reg, log)
	if err != nil {
		return nil, err
	}
	rep, err := parts.manager.Reconcile(ctx)
	return &rep, err
}
