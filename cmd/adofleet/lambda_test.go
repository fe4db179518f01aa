package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adofleet/adofleet/internal/adosim"
)

// scheduledEvent is an EventBridge scheduled event as Lambda delivers it.
const scheduledEvent = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
"source":"aws.events","account":"123456789012","time":"2026-01-10T12:00:00Z","region":"us-east-1",
"resources":["arn:aws:events:us-east-1:123456789012:rule/adofleet-reconcile"],"detail":{}}`

// TestLambdaReconcileScalesAPool calls the reconcile handler in-process, as the Lambda runtime
// would on each schedule tick, against the simulator over HTTP with local agent processes.
func TestLambdaReconcileScalesAPool(t *testing.T) {
	const pat = "lambda-test-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_LAMBDA_TEST_PAT", pat)

	sim := newSimHarness(t, "deploy", adosim.ServerOptions{PAT: pat})
	org := sim.org
	cfgPath := sim.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_LAMBDA_TEST_PAT
controller:
  id: lambda-test
store:
  sqlite:
    path: {state}
web:
  listen: "off"
{localAgents}
pools:
  - name: deploy
    provider: local
    max: 3
    idleTimeout: 1s
    registrationTimeout: 1m
`)
	logs := &syncBuffer{}
	h, err := newLambdaHandler("", lambdaConfigFromEnv(envMap{envLambdaConfig: cfgPath}.get), logs)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal([]byte(scheduledEvent), &ev); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// First tick: nothing queued; the placeholder agent is registered, nothing launched.
	out, err := h.Reconcile(ctx, ev)
	if err != nil {
		t.Fatalf("first reconcile: %v\n%s", err, logs.String())
	}
	if got, want := out.Pools, []PoolReconcile{{Pool: "deploy"}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("first reconcile = %+v, want %+v", got, want)
	}
	if got := len(org.Agents("deploy")); got != 1 {
		t.Fatalf("agents after the first tick = %d, want the placeholder only", got)
	}

	const jobs = 2
	for range jobs {
		if _, err := org.QueueJob("deploy", adosim.JobSpec{Duration: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	// Second tick, through Invoke with the raw event as the runtime hands it over.
	raw, err := h.Invoke(ctx, json.RawMessage(scheduledEvent))
	if err != nil {
		t.Fatalf("second reconcile: %v\n%s", err, logs.String())
	}
	second := raw.(ReconcileOutput)
	if got := second.Pools[0]; got.Queued != jobs || got.Launched != jobs {
		t.Errorf("second reconcile = %+v, want %d queued and %d launched", got, jobs, jobs)
	}

	// Later ticks: the jobs run on the launched agents, which exit after one job each; the
	// controller deletes them and the pool is back to its placeholder.
	for {
		if _, err := h.Reconcile(ctx, ev); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		if allJobsFinished(org) && len(org.Agents("deploy")) == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pool never settled: jobs %+v agents %+v\n%s", org.Jobs(), org.Agents("deploy"), logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	checkJobsSucceededOnce(t, org, jobs)
	if strings.Contains(logs.String(), pat) {
		t.Error("the lambda handler logged the PAT")
	}
}

// syncBuffer is a log sink safe for the provider's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

func TestLambdaEventKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event, want string
	}{
		{"eventbridge schedule", scheduledEvent, handlerReconcile},
		{"function URL", `{"version":"2.0","rawPath":"/checks","requestContext":{"http":{"method":"POST"}}}`, handlerChecks},
		{"REST API proxy", `{"httpMethod":"POST","path":"/v1/checks/p","requestContext":{"stage":"prod"}}`, handlerChecks},
		{"sqs batch", `{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"{}"}]}`, handlerSQS},
		{"unknown", `{"hello":"world"}`, ""},
		{"not json", `[1,2]`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := eventKind(json.RawMessage(tc.event))
			if got != tc.want || (tc.want == "") != (err != nil) {
				t.Errorf("eventKind = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestLambdaRejectsAnUnknownHandler(t *testing.T) {
	t.Parallel()
	if _, err := newLambdaHandler("webhook", nil, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), envLambdaHandler) {
		t.Errorf("err = %v, want it to name %s", err, envLambdaHandler)
	}
}

func TestLambdaCommandRefusesOutsideLambda(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	_, _, err := runCLI(context.Background(), "lambda")
	var ec exitCodeError
	if !errors.As(err, &ec) || ec.code != 2 || !strings.Contains(err.Error(), "AWS_LAMBDA_RUNTIME_API") {
		t.Errorf("err = %v, want exit 2 naming AWS_LAMBDA_RUNTIME_API", err)
	}
}

func TestLambdaInlineConfig(t *testing.T) {
	t.Parallel()
	load := lambdaConfigFromEnv(envMap{envLambdaConfigYAML: "organization:\n  url: https://dev.azure.com/x\npools: []\n"}.get)
	_, err := load()
	if err == nil || !strings.Contains(err.Error(), envLambdaConfigYAML) {
		t.Errorf("err = %v, want a config error naming %s", err, envLambdaConfigYAML)
	}
}
