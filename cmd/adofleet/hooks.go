package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/servicehooks"
)

// openHooks builds the service-hook endpoint to mount at /v1/hooks/ado; nil when hooks are off.
// Completed runs are published to events; a job waiting for an agent wakes every pool of ctrl.
func openHooks(ctx context.Context, cfg *config.Config, ac *aws.Config, secrets *secret.Registry, events notify.Publisher, ctrl *controller.Controller, reg prometheus.Registerer, log *slog.Logger) ([]mount, error) {
	hc := cfg.Hooks
	if hc == nil || !hc.Enabled {
		return nil, nil
	}
	log = log.With("component", "servicehooks")
	// Resolved once at start-up: a missing secret fails it rather than every delivery.
	auth, err := resolveWebhookAuth(ctx, secrets, webhookAuthConfig{
		section: "hooks", username: hc.Username, passwordRef: hc.Password, secretRef: hc.SharedSecret,
		secretHeader: hc.SecretHeader,
	})
	if err != nil {
		return nil, err
	}
	account, region := hooksAccount(ctx, cfg, ac, log)
	h, err := servicehooks.NewHandler(servicehooks.Options{
		Auth: auth, Events: events, Account: account, Region: region,
		Wake:         wakeFunc(ctrl),
		MaxBodyBytes: int64(hc.MaxBodyBytes), Logger: log, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	log.Info("service-hook endpoint ready", "path", servicehooks.Path, "account", account, "region", region)
	return []mount{{pattern: servicehooks.Path, handler: h}}, nil
}

// hooksAccount is the AWS account and region run notifications name: hooks.account and
// hooks.region, else the account of adofleet's own credentials (asked of STS once) and aws.region.
// A failed lookup leaves the account empty rather than failing the start.
func hooksAccount(ctx context.Context, cfg *config.Config, ac *aws.Config, log *slog.Logger) (account, region string) {
	hc := cfg.Hooks
	account, region = hc.Account, hc.Region
	if region == "" {
		region = cfg.AWS.Region
	}
	if ac == nil {
		return account, region
	}
	if region == "" {
		region = ac.Region
	}
	if account == "" {
		a, err := servicehooks.ResolveAccount(ctx, sts.NewFromConfig(*ac))
		if err != nil {
			log.Warn("resolving the AWS account for run notifications; set hooks.account", "err", err)
		}
		account = a
	}
	return account, region
}

// wakeFunc wakes the named pool, or every pool when the event names none.
func wakeFunc(ctrl *controller.Controller) func(string) {
	return func(pool string) {
		if pool != "" {
			ctrl.Wake(pool)
			return
		}
		for _, p := range ctrl.Pools() {
			ctrl.Wake(p)
		}
	}
}
