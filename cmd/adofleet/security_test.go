package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

const guardedConfig = `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_GUARD_PAT
controller:
  id: guard-test
  resync: 300ms
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
  allowFrom: [192.0.2.0/24]
  trustedProxies: [127.0.0.1, "::1"]
  username: ops
  password: env:ADOFLEET_TEST_GUARD_WEB_PASSWORD
  bearerToken: env:ADOFLEET_TEST_GUARD_WEB_TOKEN
checks:
  enabled: true
  sharedSecret: env:ADOFLEET_TEST_GUARD_CHECKS_SECRET
  allowFrom: [198.51.100.0/24]
  timeout: 1m
hooks:
  enabled: true
  sharedSecret: env:ADOFLEET_TEST_GUARD_HOOKS_SECRET
  account: "123456789012"
  region: eu-west-1
{localAgents}
pools:
  - name: build
    provider: local
    max: 2
    registrationTimeout: 1m
`

// TestServeGuardsTheListener runs `adofleet serve` with web.allowFrom, the dashboard's
// credentials, a checks allow-list of its own and hooks on the web one, and calls every kind of
// endpoint from allowed and refused addresses: refused callers get 403 and reach nothing (no
// check recorded, no agent launched), the probes stay open, the dashboard asks for credentials.
// It also sends every non-GET method to every dashboard route and wants 405 from each.
func TestServeGuardsTheListener(t *testing.T) {
	const (
		pat         = "guard-test-pat-0123456789abcdef"
		webPassword = "guard-test-web-password"
		webToken    = "guard-test-web-token"
		checkSecret = "guard-test-checks-secret"
		hookSecret  = "guard-test-hooks-secret"
	)
	t.Setenv("ADOFLEET_TEST_GUARD_PAT", pat)
	t.Setenv("ADOFLEET_TEST_GUARD_WEB_PASSWORD", webPassword)
	t.Setenv("ADOFLEET_TEST_GUARD_WEB_TOKEN", webToken)
	t.Setenv("ADOFLEET_TEST_GUARD_CHECKS_SECRET", checkSecret)
	t.Setenv("ADOFLEET_TEST_GUARD_HOOKS_SECRET", hookSecret)

	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	org := h.org
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := startServe(t, ctx, h.writeConfig(t, guardedConfig))
	base := run.dashboardURL(t, ctx)
	run.waitFor(t, ctx, "placeholder agent", func() bool { return len(org.Agents("build")) == 1 })

	const (
		office   = "192.0.2.10"    // web.allowFrom
		ado      = "198.51.100.20" // checks.allowFrom
		stranger = "203.0.113.30"  // on no list
	)
	basic := map[string]string{"Authorization": "Basic " + basicToken("ops", webPassword)}
	bearer := map[string]string{"Authorization": "Bearer " + webToken}
	plan := org.AddPlan(adosim.PlanSpec{HubName: "checks"})
	check := map[string]string{
		"X-Adofleet-Secret": checkSecret,
		"PlanUrl":           h.sim.URL + "/", "ProjectId": plan.ProjectID, "HubName": plan.HubName,
		"PlanId": plan.PlanID, "JobId": plan.JobID, "TimelineId": plan.TimelineID,
		"TaskInstanceId": plan.TaskInstanceID, "AuthToken": plan.Token,
	}
	hookBody, err := os.ReadFile("../../internal/servicehooks/testdata/run_succeeded.json")
	if err != nil {
		t.Fatal(err)
	}
	hook := map[string]string{"X-Adofleet-Secret": hookSecret, "Content-Type": "application/json"}
	metrics := func() string {
		_, _, body := request{method: "GET", path: "/metrics", from: office, headers: bearer}.do(t, ctx, base)
		return body
	}

	refused := []struct {
		name string
		req  request
		want int
	}{
		{"dashboard from a stranger, with credentials", request{method: "GET", path: "/", from: stranger, headers: basic}, 403},
		{"API from a stranger, with credentials", request{method: "GET", path: "/api/status", from: stranger, headers: basic}, 403},
		{"metrics from a stranger, with the token", request{method: "GET", path: "/metrics", from: stranger, headers: bearer}, 403},
		{"dashboard with a forged hop left of the stranger", request{method: "GET", path: "/", from: office + ", " + stranger, headers: basic}, 403},
		{"dashboard from the office without credentials", request{method: "GET", path: "/", from: office}, 401},
		{"dashboard from the office, wrong password", request{method: "GET", path: "/", from: office, headers: map[string]string{"Authorization": "Basic " + basicToken("ops", "nope")}}, 401},
		{"check from the office (not on checks.allowFrom)", request{method: "POST", path: "/v1/checks/build", from: office, headers: check}, 403},
		{"check from a stranger", request{method: "POST", path: "/v1/checks/build", from: stranger, headers: check}, 403},
		{"hook from a stranger (web.allowFrom applies)", request{method: "POST", path: "/v1/hooks/ado", from: stranger, headers: hook, body: string(hookBody)}, 403},
	}
	for _, tt := range refused {
		code, hdr, body := tt.req.do(t, ctx, base)
		if code != tt.want {
			t.Errorf("%s: got %d %q, want %d", tt.name, code, body, tt.want)
		}
		if code == 401 && hdr.Get("WWW-Authenticate") != `Basic realm="adofleet dashboard"` {
			t.Errorf("%s: WWW-Authenticate %q, want the dashboard's Basic challenge", tt.name, hdr.Get("WWW-Authenticate"))
		}
	}
	// Nothing was done: no check request reached the handler, and no agent starts over a few cycles.
	run.waitReconciles(t, ctx, 3, metrics)
	if n := len(org.Agents("build")); n != 1 {
		t.Errorf("after the refused check calls the pool has %d agents, want only the placeholder", n)
	}
	m := metrics()
	if strings.Contains(m, "adofleet_checks_requests_total{") {
		t.Errorf("a refused check call reached the handler:\n%s", grepLines(m, "adofleet_checks_requests_total"))
	}
	for _, want := range []string{
		`adofleet_http_refused_total{endpoint="dashboard",reason="address"} 4`,
		`adofleet_http_refused_total{endpoint="dashboard",reason="credentials"} 2`,
		`adofleet_http_refused_total{endpoint="checks",reason="address"} 2`,
		`adofleet_http_refused_total{endpoint="hooks",reason="address"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s; got:\n%s", want, grepLines(m, "adofleet_http_refused_total"))
		}
	}

	allowed := []struct {
		name string
		req  request
		want int
	}{
		{"liveness probe from a stranger, no credentials", request{method: "GET", path: "/healthz", from: stranger}, 200},
		{"readiness probe from a stranger, no credentials", request{method: "HEAD", path: "/readyz", from: stranger}, 200},
		{"dashboard from the office, basic", request{method: "GET", path: "/", from: office, headers: basic}, 200},
		{"API from the office, bearer", request{method: "GET", path: "/api/status", from: office, headers: bearer}, 200},
		{"dashboard directly from the trusted proxy's own address is not on the list", request{method: "GET", path: "/", headers: basic}, 403},
		{"hook from the office", request{method: "POST", path: "/v1/hooks/ado", from: office, headers: hook, body: string(hookBody)}, 200},
		{"check from ADO without the secret: the handler's own 401", request{method: "POST", path: "/v1/checks/build", from: ado, headers: map[string]string{"PlanId": plan.PlanID}}, 401},
		{"check from ADO", request{method: "POST", path: "/v1/checks/build", from: ado, headers: check}, 200},
	}
	for _, tt := range allowed {
		if code, _, body := tt.req.do(t, ctx, base); code != tt.want {
			t.Errorf("%s: got %d %q, want %d", tt.name, code, body, tt.want)
		}
	}
	run.waitFor(t, ctx, "an agent launched for the allowed check", func() bool { return len(org.Agents("build")) >= 2 })

	t.Run("dashboard is read-only", func(t *testing.T) {
		routes := dashboardRoutes(t)
		for _, route := range routes {
			for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
				code, hdr, body := request{method: method, path: route, from: office, headers: basic, body: "{}"}.do(t, ctx, base)
				if code != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: got %d %q, want 405", method, route, code, body)
					continue
				}
				if allow := hdr.Get("Allow"); !strings.Contains(allow, "GET") || strings.Contains(allow, method) {
					t.Errorf("%s %s: Allow %q, want GET (and HEAD) only", method, route, allow)
				}
			}
		}
	})

	stderr := run.shutdown(t)
	for _, s := range []string{pat, webPassword, webToken, checkSecret, hookSecret} {
		if strings.Contains(stderr, s) {
			t.Errorf("serve logged a secret (%d characters)", len(s))
		}
	}
}

// routePattern finds the routes internal/web registers, e.g. s.mux.HandleFunc("GET /api/status", ...).
var routePattern = regexp.MustCompile(`\.mux\.Handle(?:Func)?\("([^"]+)"`)

// dashboardRoutes reads the dashboard's routes from internal/web's source, so a route added
// there is covered here without editing this test; each must be registered for GET only. A
// wildcard segment becomes a sample value.
func dashboardRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../../internal/web/server.go")
	if err != nil {
		t.Fatal(err)
	}
	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	var routes []string
	for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
		method, path, ok := strings.Cut(m[1], " ")
		if !ok || method != "GET" {
			t.Errorf("internal/web registers %q: every dashboard route must be GET (which also answers HEAD)", m[1])
			continue
		}
		path = strings.ReplaceAll(path, "{$}", "")
		routes = append(routes, wildcard.ReplaceAllString(path, "build"))
	}
	if len(routes) < 8 {
		t.Fatalf("found %d routes in internal/web/server.go (%q), want at least the 8 known ones: has the registration changed shape?", len(routes), routes)
	}
	return routes
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeRefusesAMalformedAllowList: a CIDR that does not parse stops serve before anything
// starts, with the file, line and entry, and exit code 2.
func TestServeRefusesAMalformedAllowList(t *testing.T) {
	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: "p"})
	path := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_UNSET
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
  allowFrom:
    - 10.0.0.0/8
    - 10.0.0.0/33
checks:
  enabled: true
  sharedSecret: env:ADOFLEET_TEST_UNSET
  allowFrom: [13.107.6.1/24]
{localAgents}
pools:
  - name: build
    provider: local
    max: 1
`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, stderr, err := runCLI(ctx, "serve", "-c", path)
	var exit exitCodeError
	if !errors.As(err, &exit) || exit.code != 2 {
		t.Fatalf("serve: got %v, want exit code 2", err)
	}
	for _, want := range []string{
		`adofleet.yaml:11: web.allowFrom[1]: must be a CIDR such as 10.0.0.0/8 or an IP address such as 203.0.113.7; got "10.0.0.0/33"`,
		`adofleet.yaml:15: checks.allowFrom[0]: "13.107.6.1/24" has bits set past its /24 prefix; write 13.107.6.0/24 (the network) or 13.107.6.1/32 (one address)`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q; got:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "dashboard ready") {
		t.Error("serve started its listener despite the bad config")
	}
}
