package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/leader/kubelease"
	k8sprovider "github.com/adofleet/adofleet/internal/provider/kubernetes"
	"github.com/adofleet/adofleet/internal/store"
)

// leaderOnly is the part of serve that must run on one replica at a time: the pools' reconcile
// loops, the check callbacker, the VM reconcile loop and the CloudWatch gauges. Without an
// elector this replica always leads and the loops run until serve stops; with one they run for
// each term this replica wins, under the term's context (which carries the store fence, so
// their writes are refused once another replica leads). Everything else (webhooks, the
// lifecycle queue consumer, notification delivery) runs on every replica.
type leaderOnly struct {
	el    leader.Elector // nil: no election
	loops []func(ctx context.Context) error
}

// Go adds a loop. A loop returns when its context ends; an error it returns before then stops
// serve.
func (l *leaderOnly) Go(loop func(ctx context.Context) error) { l.loops = append(l.loops, loop) }

// run runs the loops (for every term won, with an elector) until ctx ends or a loop fails, and
// returns once every loop has returned.
func (l *leaderOnly) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	term := func(ctx context.Context) {
		if err := runLoops(ctx, l.loops); err != nil {
			cancel(err)
			return
		}
		<-ctx.Done() // a term lasts until it ends, even once every loop is done (no pools)
	}
	if l.el == nil {
		term(ctx)
	} else if err := l.el.Run(ctx, term); err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runLoops runs every loop until ctx ends; the first to fail before then ends the others and
// is returned.
func runLoops(ctx context.Context, loops []func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, loop := range loops {
		wg.Go(func() {
			if err := loop(ctx); err != nil && ctx.Err() == nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// leading reports whether this replica runs the loops now.
func (l *leaderOnly) leading() bool { return l.el == nil || l.el.IsLeader() }

// ready wraps a readiness check: a replica that does not lead is not ready, so a load balancer
// sends the webhooks (which wake the controller) to the leader.
func (l *leaderOnly) ready(next func() error) func() error {
	return func() error {
		if !l.leading() {
			return errors.New("not the leader: another replica runs the controller")
		}
		return next()
	}
}

// newLeaderOnly builds the elector controller.leaderElection asks for (none when it is off).
func newLeaderOnly(cfg *config.Config, st store.Store, reg prometheus.Registerer, log *slog.Logger) (*leaderOnly, error) {
	le := cfg.Controller.LeaderElection
	if !le.Elects() {
		return &leaderOnly{}, nil
	}
	opts := leader.Options{
		Name: le.LeaseName, LeaseDuration: le.LeaseDuration.D(), RenewDeadline: le.RenewDeadline.D(),
		RetryPeriod: le.RetryPeriod.D(), Logger: log, Registerer: reg,
	}
	switch le.Backend {
	case config.LeaderBackendStore:
		if _, err := opts.WithDefaults(); err != nil {
			return nil, fmt.Errorf("controller.leaderElection: %w", err)
		}
		return &leaderOnly{el: leader.NewStore(st, opts)}, nil
	case config.LeaderBackendKubernetes:
		el, err := newKubeElector(opts)
		if err != nil {
			return nil, fmt.Errorf("controller.leaderElection (backend kubernetes): %w", err)
		}
		return &leaderOnly{el: el}, nil
	}
	return nil, fmt.Errorf("controller.leaderElection.backend %q: want %s or %s", le.Backend, config.LeaderBackendStore, config.LeaderBackendKubernetes)
}

// serviceAccountNamespace is where a Pod finds its own namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// newKubeElector campaigns for a Lease in the Pod's namespace (POD_NAMESPACE, else the service
// account's), through the in-cluster client (or the kubeconfig outside a cluster).
func newKubeElector(opts leader.Options) (leader.Elector, error) {
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		b, err := os.ReadFile(serviceAccountNamespace)
		if err != nil {
			return nil, errors.New("no namespace for the Lease: set POD_NAMESPACE (the downward API's metadata.namespace) or run in a Pod")
		}
		ns = strings.TrimSpace(string(b))
	}
	client, err := k8sprovider.NewClient(k8sprovider.ClientOptions{})
	if err != nil {
		return nil, err
	}
	return kubelease.New(client, ns, opts)
}
