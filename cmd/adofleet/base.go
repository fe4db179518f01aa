package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/webhookauth"
)

// base is what every command that acts on the organization builds before its own parts: the AWS
// config (nil when no AWS part is configured), one secret registry, the organization's
// credentials, the ADO client and the configured store. serve, the Lambda handlers and
// `vmresources reconcile` build it once and hand it to each part, so no process resolves the PAT,
// builds an ADO client or opens the store twice.
type base struct {
	ac      *aws.Config
	secrets *secret.Registry
	creds   credentials // zero when built with storeOnly
	client  *ado.Client // nil when built with storeOnly
	store   store.Store
}

// baseOptions tune openBase for its caller.
type baseOptions struct {
	uaSuffix   string // marks the caller in the User-Agent, e.g. " (lambda)"
	onThrottle func(op string, retryAfter time.Duration)
	// storeOnly skips the credentials and the ADO client (the Lambda checks function only
	// records requests in the store).
	storeOnly bool
}

// openBase loads the AWS config, resolves the organization's credentials, builds the ADO client and
// opens the store. The caller closes b.store.
func openBase(ctx context.Context, cfg *config.Config, o baseOptions, reg prometheus.Registerer, log *slog.Logger) (*base, error) {
	ac, err := loadAWS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	secrets, err := newSecrets(ac, log)
	if err != nil {
		return nil, err
	}
	b := &base{ac: ac, secrets: secrets}
	if !o.storeOnly {
		if err := b.connectADO(ctx, cfg, o, reg, log); err != nil {
			return nil, err
		}
	}
	if b.store, err = openStore(ctx, cfg, ac, secrets, reg, log); err != nil {
		return nil, err
	}
	return b, nil
}

// connectADO resolves the organization's credentials and builds the ADO client, for a base opened
// with storeOnly that turns out to need them.
func (b *base) connectADO(ctx context.Context, cfg *config.Config, o baseOptions, reg prometheus.Registerer, log *slog.Logger) error {
	creds, err := resolveCredentials(ctx, cfg, b.secrets, log)
	if err != nil {
		return err
	}
	client, err := newADOClient(cfg, creds, o.uaSuffix, o.onThrottle, reg, log)
	if err != nil {
		return err
	}
	b.creds, b.client = creds, client
	return nil
}

// newADOClient is the ADO client every command uses: the organization's URL, its refreshed
// credential and timeout, and adofleet's User-Agent.
func newADOClient(cfg *config.Config, creds credentials, uaSuffix string, onThrottle func(string, time.Duration), reg prometheus.Registerer, log *slog.Logger) (*ado.Client, error) {
	client, err := ado.New(ado.Options{
		OrgURL: cfg.Organization.URL, Credential: creds.org.Get,
		Timeout: cfg.Organization.Timeout.D(), Logger: log.With("component", "ado"), Registerer: reg,
		UserAgent: "adofleet/" + version + uaSuffix, OnThrottle: onThrottle,
	})
	if err != nil {
		return nil, fmt.Errorf("ado client: %w", err)
	}
	return client, nil
}

// webhookAuthConfig is the authentication part of the checks and hooks sections; section names
// the config section in errors.
type webhookAuthConfig struct {
	section                                        string
	username, passwordRef, secretRef, secretHeader string
}

// resolveWebhookAuth resolves an endpoint's credentials once, at start-up: a missing secret fails
// the start rather than every call.
func resolveWebhookAuth(ctx context.Context, secrets *secret.Registry, c webhookAuthConfig) (webhookauth.Auth, error) {
	auth := webhookauth.Auth{Username: c.username, SecretHeader: c.secretHeader}
	if c.passwordRef != "" {
		v, err := secrets.Resolve(ctx, c.passwordRef)
		if err != nil {
			return webhookauth.Auth{}, fmt.Errorf("%s.password: %w", c.section, err)
		}
		auth.Password = v.Reveal()
	}
	if c.secretRef != "" {
		v, err := secrets.Resolve(ctx, c.secretRef)
		if err != nil {
			return webhookauth.Auth{}, fmt.Errorf("%s.sharedSecret: %w", c.section, err)
		}
		auth.Secret = v.Reveal()
	}
	return auth, nil
}
