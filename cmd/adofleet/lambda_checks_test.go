package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
)

// httpAPIEvent is an HTTP API (payload format 2.0) event for POST /v1/checks/build on the stage
// "live", as API Gateway delivers it: the stage is part of rawPath, header names are lower case,
// and the body is base64. Headers and body are filled in.
const httpAPIEvent = `{
  "version": "2.0",
  "routeKey": "POST /v1/checks/{pool}",
  "rawPath": "/live/v1/checks/build",
  "rawQueryString": "",
  "headers": %HEADERS%,
  "pathParameters": {"pool": "build"},
  "requestContext": {
    "accountId": "123456789012", "apiId": "a1b2c3d4e5",
    "domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "domainPrefix": "a1b2c3d4e5",
    "http": {"method": "POST", "path": "/live/v1/checks/build", "protocol": "HTTP/1.1",
      "sourceIp": "13.107.6.154", "userAgent": "VSServices/19.0"},
    "requestId": "JKJaXmPLvHcESHA=", "routeKey": "POST /v1/checks/{pool}", "stage": "live",
    "time": "10/Mar/2026:12:00:00 +0000", "timeEpoch": 1773144000000
  },
  "body": %BODY%,
  "isBase64Encoded": true
}`

// restAPIEvent is a REST API proxy event for the same route (stage prod: path has no stage, the
// request context's path has). Headers and body are filled in.
const restAPIEvent = `{
  "resource": "/v1/checks/{pool}",
  "path": "/v1/checks/build",
  "httpMethod": "POST",
  "headers": %HEADERS%,
  "multiValueHeaders": %MULTI%,
  "queryStringParameters": null,
  "multiValueQueryStringParameters": null,
  "pathParameters": {"pool": "build"},
  "stageVariables": null,
  "requestContext": {
    "accountId": "123456789012", "apiId": "f6g7h8i9j0", "resourceId": "abc123", "stage": "prod",
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "httpMethod": "POST",
    "path": "/prod/v1/checks/build", "resourcePath": "/v1/checks/{pool}",
    "identity": {"sourceIp": "13.107.6.154", "userAgent": "VSServices/19.0"}
  },
  "body": %BODY%,
  "isBase64Encoded": false
}`

// apiEvent fills an event template: the headers (and their multi-value form) and the body.
func apiEvent(t *testing.T, tmpl string, headers map[string]string, body string) json.RawMessage {
	t.Helper()
	multi := map[string][]string{}
	for k, v := range headers {
		multi[k] = []string{v}
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return json.RawMessage(strings.NewReplacer("%HEADERS%", enc(headers), "%MULTI%", enc(multi), "%BODY%", enc(body)).Replace(tmpl))
}

// TestLambdaChecksThenReconcile runs the two Lambda functions of deploy/terraform/aws, the checks
// function (API Gateway events) and the reconcile function (the schedule), as two handlers with
// one DynamoDB table (dynalite) between them, against the simulator: calls in both API Gateway
// payload formats are authenticated and validated as serve's endpoint does, the good ones are
// recorded in the table, and the reconcile function launches an agent for each and calls each
// check back exactly once.
func TestLambdaChecksThenReconcile(t *testing.T) {
	emu := startDynalite(t)
	awsTestEnv(t)
	const (
		pat      = "lambda-checks-pat-0123456789abcdef"
		password = "lambda-checks-password-42"
	)
	t.Setenv("ADOFLEET_TEST_PAT", pat)
	t.Setenv("ADOFLEET_TEST_CHECKS_PASSWORD", password)
	sim := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	org := sim.org
	cfgPath := sim.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
controller: {id: lambda-checks}
aws: {region: eu-west-1}
store:
  dynamodb:
    table: adofleet-lambda-checks
    endpoint: {dynamo}
    createTable: true
checks:
  enabled: true
  username: adofleet
  password: env:ADOFLEET_TEST_CHECKS_PASSWORD
  timeout: 1m
{localAgents}
pools:
  - name: build
    provider: local
    max: 3
    idleTimeout: 1m
    registrationTimeout: 1m
`, "{dynamo}", emu.Endpoint)
	load := lambdaConfigFromEnv(envMap{envLambdaConfig: cfgPath}.get)
	logs := &syncBuffer{}
	checksFn, err := newLambdaHandler(handlerChecks, load, logs)
	if err != nil {
		t.Fatal(err)
	}
	reconcileFn, err := newLambdaHandler("", load, logs) // by shape, as a function serving both would
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tick := func() {
		t.Helper()
		if _, err := reconcileFn.Invoke(ctx, json.RawMessage(scheduledEvent)); err != nil {
			t.Fatalf("reconcile: %v\n%s", err, logs.String())
		}
	}
	tick() // the placeholder agent
	if n := len(org.Agents("build")); n != 1 {
		t.Fatalf("agents after the first tick = %d, want the placeholder", n)
	}

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("adofleet:"+password))
	planHeaders := func(p adosim.PlanSpec) map[string]string {
		return map[string]string{
			"PlanUrl": sim.sim.URL + "/", "ProjectId": p.ProjectID, "HubName": p.HubName, "PlanId": p.PlanID,
			"JobId": p.JobID, "TimelineId": p.TimelineID, "TaskInstanceId": p.TaskInstanceID, "AuthToken": p.Token,
		}
	}
	viaHTTPAPI := org.AddPlan(adosim.PlanSpec{HubName: "checks"})
	viaREST := org.AddPlan(adosim.PlanSpec{HubName: "checks"})

	// HTTP API: the check's default headers (lower case, as API Gateway passes them), body {}.
	h2 := map[string]string{"authorization": basic, "content-type": "application/json"}
	for k, v := range planHeaders(viaHTTPAPI) {
		h2[strings.ToLower(k)] = v
	}
	base64Body := base64.StdEncoding.EncodeToString([]byte("{}"))
	v2 := invokeV2(t, ctx, checksFn, apiEvent(t, httpAPIEvent, h2, base64Body))
	if v2.StatusCode != http.StatusOK || !strings.Contains(v2.Body, `"accepted"`) || v2.Headers["Content-Type"] != "application/json" {
		t.Fatalf("HTTP API call: got %d %v %s, want 200 application/json accepted\n%s", v2.StatusCode, v2.Headers, v2.Body, logs.String())
	}
	// The same call again (ADO retries): accepted, recorded once.
	if again := invokeV2(t, ctx, checksFn, apiEvent(t, httpAPIEvent, h2, base64Body)); again.StatusCode != http.StatusOK {
		t.Fatalf("repeated HTTP API call: got %d %s, want 200", again.StatusCode, again.Body)
	}
	// Missing fields: 400 naming them, nothing recorded.
	partial := map[string]string{"authorization": basic, "planurl": h2["planurl"], "authtoken": h2["authtoken"]}
	if bad := invokeV2(t, ctx, checksFn, apiEvent(t, httpAPIEvent, partial, base64Body)); bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, "PlanId") {
		t.Errorf("HTTP API call missing fields: got %d %s, want 400 naming PlanId", bad.StatusCode, bad.Body)
	}

	// REST API: the values in the JSON body, the credentials in the header.
	body, err := json.Marshal(planHeaders(viaREST))
	if err != nil {
		t.Fatal(err)
	}
	anon := invokeV1(t, ctx, checksFn, apiEvent(t, restAPIEvent, map[string]string{"Content-Type": "application/json"}, string(body)))
	if anon.StatusCode != http.StatusUnauthorized || len(anon.MultiValueHeaders["Www-Authenticate"]) != 1 {
		t.Errorf("REST API call without credentials: got %d %v, want 401 with WWW-Authenticate", anon.StatusCode, anon.MultiValueHeaders)
	}
	v1 := invokeV1(t, ctx, checksFn, apiEvent(t, restAPIEvent, map[string]string{"Authorization": basic, "Content-Type": "application/json"}, string(body)))
	if v1.StatusCode != http.StatusOK || !strings.Contains(v1.Body, `"accepted"`) {
		t.Fatalf("REST API call: got %d %s, want 200 accepted\n%s", v1.StatusCode, v1.Body, logs.String())
	}

	// The reconcile function finds both requests in the table, launches for them and, once the
	// agents are online, calls each check back.
	plans := []adosim.PlanSpec{viaHTTPAPI, viaREST}
	completed := func(p adosim.PlanSpec) []adosim.PlanEvent {
		info, ok := org.Plan(p.PlanID)
		if !ok {
			t.Fatalf("plan %s is gone", p.PlanID)
		}
		var out []adosim.PlanEvent
		for _, e := range info.Events {
			if e.Name == "TaskCompleted" {
				out = append(out, e)
			}
		}
		return out
	}
	waitTicks(t, ctx, tick, logs, "both checks called back", func() bool {
		return len(completed(plans[0])) > 0 && len(completed(plans[1])) > 0
	})
	if n := len(org.Agents("build")); n != 3 {
		t.Errorf("agents = %d, want the placeholder and one per check", n)
	}
	for range 3 { // later runs send nothing again
		tick()
	}
	for _, p := range plans {
		if ev := completed(p); len(ev) != 1 || ev[0].Result != "succeeded" || ev[0].TaskID != p.TaskInstanceID || ev[0].JobID != p.JobID {
			t.Errorf("plan %s: TaskCompleted events %+v, want exactly one, succeeded, for its task", p.PlanID, ev)
		}
	}
	st, err := dynamodb.Open(ctx, dynamodb.Options{Table: "adofleet-lambda-checks", Client: emu.Client()})
	if err != nil {
		t.Fatalf("open the shared table: %v", err)
	}
	done, err := st.FinishedCheckRequests(ctx, "build")
	if err != nil || len(done) != 2 {
		t.Fatalf("finished check requests in the table: got %d, %v; want 2", len(done), err)
	}
	for _, f := range done {
		if !f.Outcome.Sent || f.Outcome.Result != "succeeded" || f.Request.AuthToken != "" {
			t.Errorf("finished request %+v: want sent, succeeded and its token blanked", f)
		}
	}

	// The released jobs run on the agents, which exit after one job each.
	for range plans {
		if _, err := org.QueueJob("build", adosim.JobSpec{Duration: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	waitTicks(t, ctx, tick, logs, "the jobs run and the pool back to its placeholder", func() bool {
		return allJobsFinished(org) && len(org.Agents("build")) == 1
	})
	checkJobsSucceededOnce(t, org, len(plans))
	for _, s := range []string{pat, password, viaHTTPAPI.Token, viaREST.Token} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the lambda handlers logged a secret (%d characters)", len(s))
		}
	}
}

// waitTicks runs tick until cond holds, failing the test when ctx ends first.
func waitTicks(t *testing.T, ctx context.Context, tick func(), logs *syncBuffer, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s\n%s", what, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		tick()
	}
}

func invokeV2(t *testing.T, ctx context.Context, h *lambdaHandler, ev json.RawMessage) events.APIGatewayV2HTTPResponse {
	t.Helper()
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	resp, ok := out.(events.APIGatewayV2HTTPResponse)
	if !ok {
		t.Fatalf("Invoke returned %T, want events.APIGatewayV2HTTPResponse", out)
	}
	return resp
}

func invokeV1(t *testing.T, ctx context.Context, h *lambdaHandler, ev json.RawMessage) events.APIGatewayProxyResponse {
	t.Helper()
	out, err := h.Invoke(ctx, ev)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	resp, ok := out.(events.APIGatewayProxyResponse)
	if !ok {
		t.Fatalf("Invoke returned %T, want events.APIGatewayProxyResponse", out)
	}
	return resp
}

// TestLambdaChecksHandlerRefuses: a config the checks function cannot serve, or an event that is
// not from API Gateway, fails the invocation with a message saying why.
func TestLambdaChecksHandlerRefuses(t *testing.T) {
	t.Parallel()
	const head = "organization:\n  url: https://dev.azure.com/x\n  pat: env:X\nproviders:\n  local:\n    command: [a]\npools:\n  - name: p\n    provider: local\n    max: 1\n"
	v2 := `{"version":"2.0","rawPath":"/v1/checks/p","requestContext":{"http":{"method":"POST"}}}`
	tests := []struct {
		name, yaml, event, want string
	}{
		{"checks off", head, v2, "checks.enabled is false"},
		{"sqlite store", head + "checks: {enabled: true, sharedSecret: env:S}\nstore: {sqlite: {path: /tmp/a.db}}\n", v2, "store.sqlite"},
		{"not API Gateway", head, `{"requestContext":{}}`, "not an API Gateway event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			load := func() (*config.Config, error) { return config.Parse("lambda.yaml", []byte(tc.yaml)) }
			h, err := newLambdaHandler("", load, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Invoke(context.Background(), json.RawMessage(tc.event))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Invoke: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
