package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

// TestServeAnswersAChecksCall runs `adofleet serve -c FILE` with the checks endpoint enabled (a
// shared secret from an env: reference) and local agent-sim agents, then calls POST
// /v1/checks/{pool} as ADO's Invoke REST API check would: a call without the secret gets 401 and a
// call missing fields 400, neither launching anything; a good call gets 200, an agent is launched
// with no job queued, and the check's plan receives exactly one TaskCompleted, succeeded.
func TestServeAnswersAChecksCall(t *testing.T) {
	const (
		pat    = "serve-checks-pat-0123456789abcdef"
		secret = "serve-checks-shared-secret-42"
		header = "X-Adofleet-Secret"
	)
	t.Setenv("ADOFLEET_TEST_CHECKS_PAT", pat)
	t.Setenv("ADOFLEET_TEST_CHECKS_SECRET", secret)

	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	org, sim := h.org, h.sim
	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_CHECKS_PAT
controller:
  id: serve-checks-test
  resync: 300ms
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
checks:
  enabled: true
  sharedSecret: env:ADOFLEET_TEST_CHECKS_SECRET
  timeout: 1m
{localAgents}
pools:
  - name: build
    provider: local
    max: 2
    idleTimeout: 1m
    registrationTimeout: 1m
`)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := startServe(t, ctx, cfgPath)
	base := run.dashboardURL(t, ctx)
	run.waitFor(t, ctx, "placeholder agent", func() bool { return len(org.Agents("build")) == 1 })

	plan := org.AddPlan(adosim.PlanSpec{HubName: "checks"})
	headers := map[string]string{
		"PlanUrl": sim.URL + "/", "ProjectId": plan.ProjectID, "HubName": plan.HubName,
		"PlanId": plan.PlanID, "JobId": plan.JobID, "TimelineId": plan.TimelineID,
		"TaskInstanceId": plan.TaskInstanceID, "AuthToken": plan.Token,
	}
	checkURL := base + "/v1/checks/build"

	// Without the secret: 401, nothing recorded.
	if code, body := postCheck(t, checkURL, headers); code != http.StatusUnauthorized {
		t.Fatalf("POST without the secret: got %d %s, want 401", code, body)
	}
	// Missing fields: 400 naming each of them (and never the values sent).
	partial := map[string]string{header: secret, "PlanUrl": headers["PlanUrl"], "HubName": plan.HubName, "AuthToken": plan.Token}
	code, body := postCheck(t, checkURL, partial)
	if code != http.StatusBadRequest {
		t.Fatalf("POST missing fields: got %d %s, want 400", code, body)
	}
	var answer struct {
		Errors struct {
			Missing []string `json:"missing"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		t.Fatalf("400 body %q: %v", body, err)
	}
	wantMissing := []string{"ProjectId", "PlanId", "JobId", "TaskInstanceId"}
	slices.Sort(answer.Errors.Missing)
	slices.Sort(wantMissing)
	if !slices.Equal(answer.Errors.Missing, wantMissing) {
		t.Errorf("400 names missing %v, want %v", answer.Errors.Missing, wantMissing)
	}
	if strings.Contains(body, plan.Token) {
		t.Error("the 400 answer echoes the AuthToken")
	}
	// Neither call may launch: let a few reconcile cycles pass, then count the pool's agents.
	run.waitReconciles(t, ctx, 3, func() string { return get(t, base+"/metrics") })
	if n := len(org.Agents("build")); n != 1 {
		t.Fatalf("after the rejected calls the pool has %d agents, want only the placeholder", n)
	}

	// The good call: 200, then an agent for the check although no job is queued.
	good := map[string]string{header: secret}
	for k, v := range headers {
		good[k] = v
	}
	if code, body := postCheck(t, checkURL, good); code != http.StatusOK {
		t.Fatalf("POST with the secret: got %d %s, want 200", code, body)
	}
	run.waitFor(t, ctx, "an agent launched for the check", func() bool { return len(org.Agents("build")) >= 2 })
	if jobs := org.Jobs(); len(jobs) != 0 {
		t.Errorf("the simulator has %d jobs, want none: the agent was launched for the check alone", len(jobs))
	}
	completed := func() []adosim.PlanEvent {
		info, ok := org.Plan(plan.PlanID)
		if !ok {
			t.Fatalf("plan %s is gone", plan.PlanID)
		}
		var out []adosim.PlanEvent
		for _, e := range info.Events {
			if e.Name == "TaskCompleted" {
				out = append(out, e)
			}
		}
		return out
	}
	run.waitFor(t, ctx, "the check's TaskCompleted callback", func() bool { return len(completed()) > 0 })
	// A second callback would follow within a few cycles; none may.
	run.waitReconciles(t, ctx, 3, func() string { return get(t, base+"/metrics") })
	events := completed()
	if len(events) != 1 || events[0].Result != "succeeded" || events[0].TaskID != plan.TaskInstanceID || events[0].JobID != plan.JobID {
		t.Errorf("TaskCompleted events = %+v, want exactly one, succeeded, for task %s of job %s", events, plan.TaskInstanceID, plan.JobID)
	}

	stderr := run.shutdown(t)
	for _, s := range []string{pat, secret, plan.Token} {
		if strings.Contains(stderr, s) {
			t.Errorf("serve logged a secret (%d characters)", len(s))
		}
	}
}

// postCheck POSTs an empty body with headers and returns the status and body.
func postCheck(t *testing.T, url string, headers map[string]string) (int, string) {
	t.Helper()
	code, _, body := request{method: http.MethodPost, headers: headers}.do(t, context.Background(), url)
	return code, body
}
