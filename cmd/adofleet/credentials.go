package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/secret"
)

// credentials are the resolved secrets serve needs. The controller's PAT or bearer token is read
// once (the ADO client takes a string); the agent token follows organization.secretTTL.
type credentials struct {
	pat, bearer secret.Value
	agent       latestToken
}

// latestToken hands out the current value of a refreshed secret; its Reveal method is what
// controller.Options.AgentToken calls before each launch.
type latestToken struct {
	src secret.Source
	log *slog.Logger
}

// Reveal returns the latest value, or "" (logged, never the value) when it cannot be had.
func (t latestToken) Reveal() string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := t.src.Get(ctx)
	if err != nil {
		t.log.Error("agent token unavailable", "err", err)
		return ""
	}
	return v.Reveal()
}

// resolveCredentials resolves the organization's secrets once, so that a missing one fails
// start-up, through refreshers that re-resolve them every secretTTL. ac (nil when no AWS part is
// configured) backs ssm: and secretsmanager: references.
func resolveCredentials(ctx context.Context, cfg *config.Config, ac *aws.Config, log *slog.Logger) (credentials, error) {
	org := cfg.Organization
	reg, err := newSecrets(ac, log)
	if err != nil {
		return credentials{}, err
	}
	opts := secret.RefreshOptions{TTL: org.SecretTTL.D(), Log: log}
	refreshers := map[string]*secret.Refresher{} // one per reference: the agent token is often the PAT
	get := func(field, ref string) (*secret.Refresher, secret.Value, error) {
		r := refreshers[ref]
		if r == nil {
			r = secret.NewRefresher(reg, ref, opts)
			refreshers[ref] = r
		}
		v, err := r.Get(ctx)
		if err != nil {
			return nil, secret.Value{}, fmt.Errorf("%s: %w", field, err)
		}
		return r, v, nil
	}
	var c credentials
	if org.PAT != "" {
		if _, c.pat, err = get("organization.pat", org.PAT); err != nil {
			return c, err
		}
	}
	if org.BearerToken != "" {
		if _, c.bearer, err = get("organization.bearerToken", org.BearerToken); err != nil {
			return c, err
		}
	}
	agent, _, err := get("organization.agentToken", org.AgentTokenRef())
	if err != nil {
		return c, err
	}
	c.agent = latestToken{src: agent, log: log.With("component", "secret")}
	return c, nil
}
