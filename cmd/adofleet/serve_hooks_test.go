package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// TestServeAnswersServiceHooks runs `adofleet serve -c FILE` with hooks enabled (basic auth, the
// password from an env: reference) and posts ADO service-hook deliveries to /v1/hooks/ado: a
// completed run is accepted, a delivery without credentials gets 401, a waiting job 202.
func TestServeAnswersServiceHooks(t *testing.T) {
	const pat = "serve-hooks-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_HOOKS_PAT", pat)
	t.Setenv("ADOFLEET_TEST_HOOKS_PASSWORD", "serve-hooks-password")

	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_HOOKS_PAT
controller:
  id: serve-hooks-test
  resync: 300ms
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
hooks:
  enabled: true
  username: ado-hooks
  password: env:ADOFLEET_TEST_HOOKS_PASSWORD
  account: "123456789012"
  region: eu-west-1
{localAgents}
pools:
  - name: build
    provider: local
    max: 1
`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := startServe(t, ctx, cfgPath)
	url := run.dashboardURL(t, ctx) + "/v1/hooks/ado"

	post := func(fixture string, auth bool) int {
		t.Helper()
		body, err := os.ReadFile("../../internal/servicehooks/testdata/" + fixture)
		if err != nil {
			t.Fatal(err)
		}
		r := request{method: http.MethodPost, body: string(body)}
		if auth {
			r.headers = map[string]string{"Authorization": "Basic " + basicToken("ado-hooks", "serve-hooks-password")}
		}
		code, _, _ := r.do(t, ctx, url)
		return code
	}
	if got := post("run_succeeded.json", false); got != http.StatusUnauthorized {
		t.Errorf("delivery without credentials: got %d, want 401", got)
	}
	if got := post("run_succeeded.json", true); got != http.StatusOK {
		t.Errorf("completed run: got %d, want 200", got)
	}
	if got := post("job_waiting.json", true); got != http.StatusAccepted {
		t.Errorf("waiting job: got %d, want 202", got)
	}
	if stderr := run.shutdown(t); strings.Contains(stderr, "serve-hooks-password") {
		t.Error("serve logged the hooks password")
	}
}
