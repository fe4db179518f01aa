package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/secret/awssecret"
	"github.com/adofleet/adofleet/internal/store"
)

// openNotify starts delivering notifications from the store's outbox and returns the Publisher
// producers publish to, and stop, which ends delivery (messages not sent yet stay in the outbox
// for the next start). With no route configured it returns notify.Discard.
func openNotify(ctx context.Context, cfg *config.Config, st store.Store, secrets notify.Secrets, reg prometheus.Registerer, log *slog.Logger) (notify.Publisher, func(), error) {
	n, err := newNotifier(cfg, st, secrets, reg, log)
	if err != nil || n == nil {
		return notify.Discard, func() {}, err
	}
	checkNotifySecrets(ctx, cfg.NotifyRoutes(), secrets, log)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.Run(runCtx) // returns runCtx's error
	}()
	return n, func() { cancel(); <-done }, nil
}

// newNotifier builds the Notifier over the store's outbox, nil with no route configured; serve
// runs its delivery loop (openNotify), Lambda one round per invocation (lambda_notify.go). tune,
// if set, adjusts the options (a test's clock). Nothing is resolved yet.
func newNotifier(cfg *config.Config, st store.Store, secrets notify.Secrets, reg prometheus.Registerer, log *slog.Logger, tune ...func(*notify.Options)) (*notify.Notifier, error) {
	routes := cfg.NotifyRoutes()
	if len(routes) == 0 {
		return nil, nil
	}
	opts := notify.Options{
		Routes: routes, Outbox: st, Secrets: secrets, Logger: log, Registerer: reg,
		SecretTTL: cfg.Organization.SecretTTL.D(),
	}
	for _, f := range tune {
		f(&opts)
	}
	n, err := notify.New(opts)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	log.Info("notifications on", "routes", len(routes))
	return n, nil
}

// checkNotifySecrets resolves each route's secrets once at start-up. A failure is a warning, not
// an exit: the fleet must run without its notifications, and the delivery retries resolving.
func checkNotifySecrets(ctx context.Context, routes []notify.Route, secrets notify.Secrets, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, r := range routes {
		for field, ref := range map[string]string{"url": r.URL, "signingSecret": r.SigningSecret} {
			if ref == "" {
				continue
			}
			if _, err := secrets.Resolve(ctx, ref); err != nil {
				log.Warn("notification route's secret cannot be resolved; its messages wait in the outbox", "route", r.Name, "field", field, "err", err)
			}
		}
	}
}

// notifyUsesAWS reports whether a route's secret is resolved by AWS (ssm:, kms:...).
func notifyUsesAWS(cfg *config.Config) bool {
	for _, r := range cfg.NotifyRoutes() {
		if awssecret.IsAWSRef(r.URL) || awssecret.IsAWSRef(r.SigningSecret) {
			return true
		}
	}
	return false
}
