package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// The secrets of the redaction tests: each recognisable, each handed to serve through an env:
// reference as a user would.
const (
	redactPAT         = "redact-PAT-3f9a1c7e5b2d4c6e"
	redactCheckSecret = "redact-CHECKSECRET-8e1f7a"
	redactHookPass    = "redact-HOOKPASS-4b7c2d"
	redactWebPass     = "redact-WEBPASS-1c3e5a"
	redactWebToken    = "redact-WEBTOKEN-7d9b0f"
	redactSlackPath   = "/services/T0REDACT/B0REDACT/redact-SLACKPATH-9d2e6f"
	redactPGPass      = "redact-PGPASS-6a5f3b"
)

// secretForms are the ways a secret could show up: as written, in a Basic Authorization header,
// percent-encoded, and as %q would print it.
func secretForms(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, s, url.QueryEscape(s), strconv.Quote(s)[1:len(strconv.Quote(s))-1],
			base64.StdEncoding.EncodeToString([]byte(":"+s)))
	}
	out = append(out, base64.StdEncoding.EncodeToString([]byte("ops:"+redactWebPass)),
		base64.StdEncoding.EncodeToString([]byte("ado-hooks:"+redactHookPass)),
		// The Slack URL's secret part without its path prefix, as a log could cut it.
		strings.TrimPrefix(redactSlackPath, "/services/"))
	return out
}

const redactionConfig = `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_REDACT_PAT
  timeout: 2s
controller:
  id: redact-test
  resync: 200ms
  logLevel: debug
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
  username: ops
  password: env:ADOFLEET_TEST_REDACT_WEB_PASSWORD
  bearerToken: env:ADOFLEET_TEST_REDACT_WEB_TOKEN
checks:
  enabled: true
  sharedSecret: env:ADOFLEET_TEST_REDACT_CHECK_SECRET
  timeout: 1m
hooks:
  enabled: true
  username: ado-hooks
  password: env:ADOFLEET_TEST_REDACT_HOOK_PASSWORD
  account: "123456789012"
  region: eu-west-1
notify:
  thresholds:
    jobWait: 1s
    poolAtMax: 1s
  routes:
    - name: ops
      type: slack
      url: env:ADOFLEET_TEST_REDACT_SLACK_URL
      maxAttempts: 2
      dedupWindow: 1s
{localAgents}
pools:
  - name: build
    provider: local
    max: 1
    idleTimeout: 1s
    registrationTimeout: 1m
`

// TestServeNeverRevealsSecrets runs `adofleet serve` with a PAT, a checks secret, a service-hook
// password, the dashboard's password and token and a Slack URL, all recognisable, at debug level
// in text and in JSON. It drives it through failing ADO calls (500s whose message echoes the
// credential, as a misbehaving proxy might, and 429s), notification deliveries that fail (a
// receiver answering 500 with the URL in its body, then one that is gone), refused and accepted
// webhook calls, and reads every dashboard page, its JSON API, its event stream, /metrics and the
// answers to bad calls. None of it may contain a secret in any form.
func TestServeNeverRevealsSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts agent processes")
	}
	for _, jsonLogs := range []bool{false, true} {
		t.Run(map[bool]string{false: "text logs", true: "JSON logs"}[jsonLogs], func(t *testing.T) {
			shown, stderr := driveRedactionRun(t, jsonLogs)
			for _, s := range secretForms(redactPAT, redactCheckSecret, redactHookPass, redactWebPass, redactWebToken, redactSlackPath) {
				if i := strings.Index(stderr, s); i >= 0 {
					t.Errorf("the logs show a secret (%q): ...%s...", s[:8], excerpt(stderr, i))
				}
				if i := strings.Index(shown, s); i >= 0 {
					t.Errorf("an HTTP answer shows a secret (%q): ...%s...", s[:8], excerpt(shown, i))
				}
			}
		})
	}
}

// excerpt is the text around i with the secret's own characters masked, for a failure message
// that does not print the secret it is about.
func excerpt(s string, i int) string {
	from, to := max(0, i-120), min(len(s), i+60)
	return strings.ReplaceAll(s[from:to], "redact-", "REDACT-")
}

// driveRedactionRun runs the scenario and returns everything HTTP clients were shown and serve's
// stderr.
func driveRedactionRun(t *testing.T, jsonLogs bool) (shown, stderr string) {
	t.Helper()
	// The Slack receiver: answers 500 echoing the path it was called on, until closed.
	var slackCalls atomic.Int64
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slackCalls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "invalid_token for "+r.URL.Path+" ("+r.URL.String()+")", http.StatusInternalServerError)
	}))
	var slackClose sync.Once
	defer slackClose.Do(slack.Close)

	t.Setenv("ADOFLEET_TEST_REDACT_PAT", redactPAT)
	t.Setenv("ADOFLEET_TEST_REDACT_WEB_PASSWORD", redactWebPass)
	t.Setenv("ADOFLEET_TEST_REDACT_WEB_TOKEN", redactWebToken)
	t.Setenv("ADOFLEET_TEST_REDACT_CHECK_SECRET", redactCheckSecret)
	t.Setenv("ADOFLEET_TEST_REDACT_HOOK_PASSWORD", redactHookPass)
	t.Setenv("ADOFLEET_TEST_REDACT_SLACK_URL", slack.URL+redactSlackPath)

	// ADO faults, on while faulting is set: every other controller call fails, alternately a
	// 500 whose message quotes the credential it was sent and a 429.
	var faulting atomic.Bool
	var faultsServed atomic.Int64
	faults := func(r *http.Request) *adosim.Fault {
		if !faulting.Load() || !strings.HasPrefix(r.UserAgent(), "adofleet/") {
			return nil
		}
		switch n := faultsServed.Add(1); n % 4 {
		case 0:
			return &adosim.Fault{Status: http.StatusInternalServerError,
				Message: "proxy rejected credential " + r.Header.Get("Authorization") + " (token " + redactPAT + ")"}
		case 2:
			return adosim.RateLimited(time.Second)
		}
		return nil
	}
	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: redactPAT, Faults: faults})
	org := h.org
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"serve", "-c", h.writeConfig(t, redactionConfig)}
	if jsonLogs {
		args = append(args, "--log-json")
	}
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	run := &serving{cliRun: startCLI(serveCtx, args...), stop: stop}
	base := dashboardBase(t, ctx, run, jsonLogs)
	run.waitFor(t, ctx, "placeholder agent", func() bool { return len(org.Agents("build")) == 1 })

	var out strings.Builder
	authed := map[string]string{"Authorization": "Bearer " + redactWebToken}
	read := func(reqs ...request) {
		for _, r := range reqs {
			_, hdr, body := r.do(t, ctx, base)
			fmt.Fprintf(&out, "%s %s\n%v\n%s\n", r.method, r.path, hdr, body)
		}
	}
	pages := func() {
		for _, p := range []string{"/", "/api/status", "/api/history", "/chart/build", "/metrics",
			"/static/app.js", "/static/style.css", "/healthz", "/readyz", "/nope"} {
			read(request{method: "GET", path: p, headers: authed})
		}
		out.WriteString(readStream(t, ctx, base+"/api/events", authed))
	}

	// Work that waits (max 1) so job.waited_long and pool.at_max go to the failing Slack route.
	for range 3 {
		if _, err := org.QueueJob("build", adosim.JobSpec{Duration: 300 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	hookBody, err := os.ReadFile("../../internal/servicehooks/testdata/run_succeeded.json")
	if err != nil {
		t.Fatal(err)
	}
	plan := org.AddPlan(adosim.PlanSpec{HubName: "checks"})
	check := map[string]string{
		"PlanUrl": h.sim.URL + "/", "ProjectId": plan.ProjectID, "HubName": plan.HubName,
		"PlanId": plan.PlanID, "JobId": plan.JobID, "TimelineId": plan.TimelineID,
		"TaskInstanceId": plan.TaskInstanceID, "AuthToken": plan.Token,
	}
	withSecret := map[string]string{"X-Adofleet-Secret": redactCheckSecret}
	wrongSecret := map[string]string{"X-Adofleet-Secret": redactCheckSecret + "x"}
	for k, v := range check {
		withSecret[k], wrongSecret[k] = v, v
	}
	hookAuth := map[string]string{"Authorization": "Basic " + basicToken("ado-hooks", redactHookPass), "Content-Type": "application/json"}
	read(
		// Refused and bad calls: their answers are what an attacker sees.
		request{method: "GET", path: "/", headers: map[string]string{"Authorization": "Basic " + basicToken("ops", redactWebPass+"x")}},
		request{method: "GET", path: "/metrics", headers: map[string]string{"Authorization": "Bearer " + redactWebToken[:10]}},
		request{method: "POST", path: "/v1/checks/build", headers: wrongSecret},
		request{method: "POST", path: "/v1/checks/build", headers: map[string]string{"X-Adofleet-Secret": redactCheckSecret, "AuthToken": plan.Token}},
		request{method: "POST", path: "/v1/checks/nope", headers: withSecret},
		request{method: "POST", path: "/v1/hooks/ado", headers: map[string]string{"Authorization": "Basic " + basicToken("ado-hooks", "x"+redactHookPass)}, body: string(hookBody)},
		request{method: "POST", path: "/v1/hooks/ado", headers: hookAuth, body: `{"eventType": 7, "secret": "` + redactHookPass + `"`},
		request{method: "DELETE", path: "/api/status", headers: authed},
		// Accepted calls: a check, and a completed run that becomes a notification.
		request{method: "POST", path: "/v1/checks/build", headers: withSecret},
		request{method: "POST", path: "/v1/hooks/ado", headers: hookAuth, body: string(hookBody)},
	)
	pages()

	// ADO fails for a while: the controller logs the failures and the dashboard shows them.
	faulting.Store(true)
	run.waitFor(t, ctx, "ADO faults served", func() bool { return faultsServed.Load() >= 12 })
	pages()
	faulting.Store(false)
	run.waitFor(t, ctx, "failed Slack deliveries", func() bool { return slackCalls.Load() >= 2 })
	// Then the receiver is gone: connection errors quote the URL they could not reach.
	slackClose.Do(slack.Close)
	calls := slackCalls.Load()
	read(request{method: "POST", path: "/v1/hooks/ado", headers: hookAuth, body: strings.Replace(string(hookBody), `"id": `, `"id": 1`, 1)})
	run.waitFor(t, ctx, "a delivery to the closed receiver", func() bool {
		return strings.Contains(run.err.String(), "connection refused")
	})
	run.waitFor(t, ctx, "the jobs to finish", func() bool { return allJobsFinished(org) })
	pages()

	stderr = run.shutdown(t)
	// Not vacuous: the secrets were in use (the simulator took the PAT, Slack was called on the
	// secret URL), the failures happened and were logged.
	if calls < 2 {
		t.Errorf("Slack was called %d times, want the failing deliveries", calls)
	}
	for _, want := range []string{"500", "429", "connection refused", "build"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the logs never mention %q: the scenario did not happen as designed", want)
		}
	}
	if !strings.Contains(out.String(), "adofleet_http_refused_total") || !strings.Contains(out.String(), "<!doctype html>") && !strings.Contains(out.String(), "<!DOCTYPE html>") {
		t.Error("the pages were not read: /metrics or the dashboard page is missing from what was shown")
	}
	return out.String(), stderr
}

// dashboardBase waits for the dashboard's address in serve's log, text or JSON.
func dashboardBase(t *testing.T, ctx context.Context, run *serving, jsonLogs bool) string {
	t.Helper()
	if !jsonLogs {
		return run.dashboardURL(t, ctx)
	}
	var base string
	run.waitFor(t, ctx, "the dashboard's address", func() bool {
		for _, l := range strings.Split(run.err.String(), "\n") {
			if strings.Contains(l, `"msg":"dashboard ready"`) {
				_, rest, _ := strings.Cut(l, `"url":"`)
				base, _, _ = strings.Cut(rest, `"`)
				base = strings.TrimSuffix(base, "/")
				return true
			}
		}
		return false
	})
	return base
}

// readStream reads the first events of a server-sent event stream.
func readStream(t *testing.T, ctx context.Context, url string, headers map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body) // ends with the context
	return string(b)
}

// TestPostgresPasswordNeverShown starts serve on a Postgres store it cannot use (nothing
// listening, a URL that does not parse, the key=value form) and looks for the password in the
// error and the logs.
func TestPostgresPasswordNeverShown(t *testing.T) {
	tests := []struct{ name, url string }{
		{"nothing listening", "postgres://adofleet:" + redactPGPass + "@127.0.0.1:1/adofleet?sslmode=disable&connect_timeout=2"},
		{"bad port", "postgres://adofleet:" + redactPGPass + "@127.0.0.1:port/adofleet"},
		{"bad escape", "postgres://adofleet:" + redactPGPass + "%zz@127.0.0.1:1/adofleet"},
		{"key=value", "host=127.0.0.1 port=1 user=adofleet password=" + redactPGPass + " dbname=adofleet connect_timeout=2 sslmode=disable"},
		{"password parameter", "postgres://adofleet@127.0.0.1:1/adofleet?password=" + redactPGPass + "&connect_timeout=2&sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ADOFLEET_TEST_REDACT_PG_URL", tt.url)
			h := newSimHarness(t, "build", adosim.ServerOptions{PAT: redactPAT})
			t.Setenv("ADOFLEET_TEST_REDACT_PAT", redactPAT)
			path := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_REDACT_PAT
controller:
  logLevel: debug
store:
  postgres:
    url: env:ADOFLEET_TEST_REDACT_PG_URL
    timeout: 3s
web:
  listen: 127.0.0.1:0
{localAgents}
pools:
  - name: build
    provider: local
    max: 1
`)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, logJSON := range []string{"--log-json=false", "--log-json"} {
				stdout, stderr, err := runCLI(ctx, "serve", "-c", path, logJSON)
				if err == nil {
					t.Fatal("serve started on a store it cannot reach")
				}
				all := stdout + stderr + err.Error()
				if !strings.Contains(all, "store.postgres") {
					t.Errorf("the error does not name the store: %v", err)
				}
				for _, s := range secretForms(redactPGPass) {
					if strings.Contains(all, s) {
						t.Errorf("%s: the password shows: %s", logJSON, strings.ReplaceAll(all, redactPGPass, "<PASSWORD>"))
					}
				}
			}
		})
	}
}
