package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/webhookauth"
)

// listenerGuards put serve's allow-lists and the dashboard's credentials in front of what
// web.listen serves (docs/security.md). The webhooks authenticate callers themselves; their
// guard only checks addresses.
type listenerGuards struct {
	web, checks, hooks *webhookauth.AllowList
	dashAuth           *webhookauth.Verifier // nil: the dashboard asks for no credentials
	metrics            *webhookauth.Metrics
	log                *slog.Logger
}

// newListenerGuards parses the allow-lists and resolves the dashboard's credentials once, at
// start-up: a missing secret fails the start rather than every request.
func newListenerGuards(ctx context.Context, cfg *config.Config, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger) (*listenerGuards, error) {
	proxies, err := webhookauth.ParsePrefixes("web.trustedProxies", cfg.Web.TrustedProxies)
	if err != nil {
		return nil, err
	}
	list := func(field string, cidrs []string) (*webhookauth.AllowList, error) {
		p, err := webhookauth.ParsePrefixes(field, cidrs)
		if err != nil {
			return nil, err
		}
		return webhookauth.NewAllowList(p, proxies), nil
	}
	g := &listenerGuards{log: log}
	if g.web, err = list("web.allowFrom", cfg.Web.AllowFrom); err != nil {
		return nil, err
	}
	if g.checks, err = list("checks.allowFrom", cfg.ChecksAllowFrom()); err != nil {
		return nil, err
	}
	if g.hooks, err = list("hooks.allowFrom", cfg.HooksAllowFrom()); err != nil {
		return nil, err
	}
	if g.metrics, err = webhookauth.NewMetrics(reg); err != nil {
		return nil, err
	}
	if cfg.Web.WebAuthConfigured() {
		auth := webhookauth.Auth{Username: cfg.Web.Username}
		if auth.Password, err = resolveRef(ctx, secrets, "web.password", cfg.Web.Password); err != nil {
			return nil, err
		}
		if auth.Token, err = resolveRef(ctx, secrets, "web.bearerToken", cfg.Web.BearerToken); err != nil {
			return nil, err
		}
		if g.dashAuth, err = webhookauth.New(auth, "adofleet dashboard"); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
	}
	if cfg.Web.Enabled() && !isLoopback(cfg.Web.Listen) && !g.web.Restricts() && g.dashAuth == nil {
		log.Warn("the dashboard, its API and /metrics are open to anyone who can reach web.listen; set web.allowFrom or web.username and web.password (or web.bearerToken), or expose only /v1/ through the load balancer",
			"listen", cfg.Web.Listen)
	}
	return g, nil
}

// resolveRef resolves an optional secret reference; the error names field, never the value.
func resolveRef(ctx context.Context, secrets *secret.Registry, field, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	v, err := secrets.Resolve(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return v.Reveal(), nil
}

// dashboard guards the dashboard's handler (every route but the probes).
func (g *listenerGuards) dashboard(h http.Handler) http.Handler {
	if g == nil {
		return h
	}
	return webhookauth.Guard(h, webhookauth.GuardOptions{
		Endpoint: "dashboard", Allow: g.web, Auth: g.dashAuth, Metrics: g.metrics, Logger: g.log,
		Exempt: isProbe,
	})
}

// endpoint guards a webhook's mounts with its allow-list.
func (g *listenerGuards) endpoint(name string, allow *webhookauth.AllowList, ms []mount) []mount {
	if g == nil || !allow.Restricts() {
		return ms
	}
	out := make([]mount, len(ms))
	for i, m := range ms {
		out[i] = mount{pattern: m.pattern, handler: webhookauth.Guard(m.handler, webhookauth.GuardOptions{
			Endpoint: name, Allow: allow, Metrics: g.metrics, Logger: g.log,
		})}
	}
	return out
}

// isProbe picks the health probes, which load balancers call from changing addresses and
// without credentials; they say only whether the process is up and ready.
func isProbe(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
}

// isLoopback reports whether addr (host:port) listens on a loopback address only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
