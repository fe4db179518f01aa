package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/secret"
)

// credentials are the resolved secrets serve needs, each behind a refresher that re-resolves it
// every organization.secretTTL: the controller's PAT or bearer token (read by the ADO client
// before each request) and the agent token (read before each launch).
type credentials struct {
	org   orgCredential
	agent latestToken
}

// orgCredential is the controller's own ADO credential; its Get is ado.Options.Credential.
type orgCredential struct {
	src    secret.Source
	bearer bool // src holds a bearer token, not a PAT
}

// Get returns the current value, from the refresher's cache while it is fresh. Its errors name the
// reference, never the value.
func (o orgCredential) Get(ctx context.Context) (ado.Credential, error) {
	v, err := o.src.Get(ctx)
	if err != nil {
		return ado.Credential{}, err
	}
	if o.bearer {
		return ado.Credential{BearerToken: v.Reveal()}, nil
	}
	return ado.Credential{PAT: v.Reveal()}, nil
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
// start-up, through refreshers that re-resolve them every secretTTL. reg resolves the references
// (newSecrets: env:, file:, and the AWS schemes when AWS is configured).
func resolveCredentials(ctx context.Context, cfg *config.Config, reg *secret.Registry, log *slog.Logger) (credentials, error) {
	org := cfg.Organization
	var err error
	opts := secret.RefreshOptions{TTL: org.SecretTTL.D(), Log: log}
	refreshers := map[string]*secret.Refresher{} // one per reference: the agent token is often the PAT
	get := func(field, ref string) (*secret.Refresher, error) {
		r := refreshers[ref]
		if r == nil {
			r = secret.NewRefresher(reg, ref, opts)
			refreshers[ref] = r
		}
		if _, err := r.Get(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		return r, nil
	}
	var c credentials
	// Config validation already demands exactly one; checked again as the client no longer sees both.
	switch {
	case org.PAT != "" && org.BearerToken != "":
		return c, errors.New("organization: pat and bearerToken are exclusive; set one")
	case org.PAT != "":
		if c.org.src, err = get("organization.pat", org.PAT); err != nil {
			return c, err
		}
	case org.BearerToken != "":
		if c.org.src, err = get("organization.bearerToken", org.BearerToken); err != nil {
			return c, err
		}
		c.org.bearer = true
	default:
		return c, errors.New("organization: pat or bearerToken is required")
	}
	agent, err := get("organization.agentToken", org.AgentTokenRef())
	if err != nil {
		return c, err
	}
	c.agent = latestToken{src: agent, log: log.With("component", "secret")}
	return c, nil
}
