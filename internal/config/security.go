package config

import (
	"fmt"

	"github.com/adofleet/adofleet/internal/webhookauth"
)

// Who may reach what serve listens on (docs/security.md): an allow-list of client addresses for
// the dashboard, its API and /metrics (web.allowFrom), which the checks and service-hook
// endpoints use too unless they set their own (checks.allowFrom, hooks.allowFrom); the proxies
// whose X-Forwarded-For is believed (web.trustedProxies); and optional credentials for the
// dashboard (web.username and web.password, or web.bearerToken). The probes /healthz and
// /readyz are left open to load balancers.

// WebAuthConfigured reports whether the dashboard asks for credentials.
func (w Web) WebAuthConfigured() bool { return w.Password != "" || w.BearerToken != "" }

// ChecksAllowFrom is the allow-list of the checks endpoint: its own, else web.allowFrom.
func (c *Config) ChecksAllowFrom() []string {
	if len(c.Checks.AllowFrom) > 0 {
		return c.Checks.AllowFrom
	}
	return c.Web.AllowFrom
}

// HooksAllowFrom is the allow-list of the service-hook endpoint: its own, else web.allowFrom.
func (c *Config) HooksAllowFrom() []string {
	if c.Hooks != nil && len(c.Hooks.AllowFrom) > 0 {
		return c.Hooks.AllowFrom
	}
	return c.Web.AllowFrom
}

func (v validator) security(c *Config) {
	w := c.Web
	v.prefixes("web.allowFrom", w.AllowFrom)
	v.prefixes("web.trustedProxies", w.TrustedProxies)
	v.prefixes("checks.allowFrom", c.Checks.AllowFrom)
	if c.Hooks != nil {
		v.prefixes("hooks.allowFrom", c.Hooks.AllowFrom)
	}
	v.secretRef("web.password", w.Password)
	v.secretRef("web.bearerToken", w.BearerToken)
	if (w.Username == "") != (w.Password == "") {
		v.errorf("web.username", "username and password go together; set both or neither")
	}
}

// prefixes checks each entry of an address list, naming the entry and its line.
func (v validator) prefixes(path string, list []string) {
	for i, s := range list {
		if _, err := webhookauth.ParsePrefix(s); err != nil {
			v.errorf(fmt.Sprintf("%s[%d]", path, i), "%v", err)
		}
	}
}

func init() {
	for k, m := range map[string]fieldMeta{
		"Web.allowFrom":      {doc: "Client addresses (CIDRs such as 10.0.0.0/8, or single addresses) allowed to reach the dashboard, its API and /metrics; others get 403. Also the allow-list of checks and hooks unless they set their own. The probes /healthz and /readyz stay open. Empty: every address."},
		"Web.trustedProxies": {doc: "Load balancers and reverse proxies (CIDRs or addresses) in front of adofleet: a request from one of them is judged by the address it adds to X-Forwarded-For. X-Forwarded-For from any other peer is ignored."},
		"Web.username":       {doc: "User name the dashboard, its API and /metrics ask for (basic authentication); goes with password."},
		"Web.password":       {doc: "Secret reference to the dashboard's basic-authentication password; goes with username.", secret: true},
		"Web.bearerToken":    {doc: "Secret reference to a token accepted as Authorization: Bearer TOKEN on the dashboard, its API and /metrics (for Prometheus and scripts); with or instead of username and password.", secret: true},
		"Checks.allowFrom":   {doc: "Client addresses (CIDRs or addresses) allowed to call the check endpoint in adofleet serve; others get 403 and start nothing. Default: web.allowFrom. Not used by the Lambda checks function (use an API Gateway resource policy)."},
		"Hooks.allowFrom":    {doc: "Client addresses (CIDRs or addresses) allowed to post service-hook deliveries; others get 403 and nothing is published. Default: web.allowFrom."},
	} {
		fieldDocs[k] = m
	}
}
