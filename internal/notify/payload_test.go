package notify_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/notify"
)

var update = flag.Bool("update", false, "rewrite the golden payloads in testdata/golden")

// samples is one event of each type, with the fields event.go lists for it.
var samples = []notify.Event{
	{Type: notify.AgentStartFailed, Severity: notify.SeverityError, Pool: "linux",
		Summary: "agent linux-3 failed to start: capacity",
		Fields:  map[string]string{"agent": "linux-3", "provider": "ecs", "reason": "RESOURCE:FARGATE capacity unavailable"}},
	{Type: notify.JobWaitedLong, Severity: notify.SeverityWarning, Pool: "linux",
		Summary: "job 4711 has waited 12m for an agent",
		Fields:  map[string]string{"jobRequestId": "4711", "waited": "12m0s", "threshold": "10m0s", "pipeline": "web-deploy"}},
	{Type: notify.PoolAtMax, Severity: notify.SeverityWarning, Pool: "linux",
		Summary: "pool linux has been at its max (10) for 15m with 4 jobs queued",
		Fields:  map[string]string{"max": "10", "queued": "4", "since": "2026-03-04T04:51:07Z"}},
	{Type: notify.CheckCallbackFailed, Severity: notify.SeverityError, Pool: "linux",
		Summary: "check callback for plan 6f1c failed: HTTP 500",
		Fields:  map[string]string{"planId": "6f1c", "jobId": "a2b3", "reason": "HTTP 500"}},
	{Type: notify.VMResourceDeregistered, Severity: notify.SeverityInfo,
		Summary: "i-0abc removed from environment prod",
		Fields:  map[string]string{"instance": "i-0abc", "environment": "prod", "project": "web", "resourceId": "17"}},
	{Type: notify.VMResourceDeregisterFailed, Severity: notify.SeverityError,
		Summary: "removing i-0abc from environment prod failed",
		Fields:  map[string]string{"instance": "i-0abc", "environment": "prod", "project": "web", "reason": "HTTP 403"}},
	{Type: notify.OrphanTerminated, Severity: notify.SeverityWarning, Pool: "linux",
		Summary: "terminated i-0def: no agent after 10m",
		Fields:  map[string]string{"instance": "i-0def", "reason": "no agent registered within 10m"}},
	{Type: notify.APIThrottled, Severity: notify.SeverityWarning, Pool: "linux",
		Summary: "ADO throttled GET jobrequests; retry after 30s",
		Fields:  map[string]string{"api": "ado", "operation": "GET jobrequests", "retryAfter": "30s"}},
	{Type: notify.RunCompleted, Severity: notify.SeverityInfo,
		Summary: "deploy-config #20260304.2 succeeded on main <b>&</b>",
		Fields: map[string]string{
			"pipeline": "deploy-config", "pipelineUrl": "https://dev.azure.com/contoso/web/_build/results?buildId=812",
			"runId": "812", "result": "succeeded", "commit": "0123456789abcdef0123", "branch": "refs/heads/main",
			"requestedBy": "Ada <ada@example.com>", "duration": "4m12s", "project": "web",
			"account": "123456789012", "region": "eu-west-1",
		}},
	{Type: notify.RunStageFailed, Severity: notify.SeverityError,
		Summary: "deploy-config #20260304.3: stage Deploy failed",
		Fields: map[string]string{
			"pipeline": "deploy-config", "pipelineUrl": "https://dev.azure.com/contoso/web/_build/results?buildId=813",
			"runId": "813", "result": "failed", "stage": "Deploy", "commit": "89abcdef01234567", "branch": "refs/heads/main",
			"requestedBy": "Ada", "duration": "1m02s", "project": "web", "account": "123456789012", "region": "eu-west-1",
		}},
	{Type: notify.RunJobFailed, Severity: notify.SeverityError,
		Summary: "deploy-config #20260304.3: job ansible failed",
		Fields: map[string]string{
			"pipeline": "deploy-config", "pipelineUrl": "https://dev.azure.com/contoso/web/_build/results?buildId=813",
			"runId": "813", "result": "failed", "stage": "Deploy", "job": "ansible", "commit": "89abcdef01234567",
			"branch": "refs/heads/main", "requestedBy": "Ada", "duration": "48s", "project": "web",
		}},
}

// TestPayloadsGolden sends each sample to each kind of receiver and compares the body on the
// wire with testdata/golden/KIND/TYPE.json (go test -update rewrites them), then checks it
// against the target's documented shape.
func TestPayloadsGolden(t *testing.T) {
	t.Parallel()
	for _, kind := range notify.Kinds {
		for _, ev := range samples {
			t.Run(string(kind)+"/"+string(ev.Type), func(t *testing.T) {
				t.Parallel()
				rcv := newReceiver(t)
				r := notify.Route{Name: "r", Kind: kind, URL: "env:URL"}
				if kind == notify.KindWebhook {
					r.SigningSecret = "env:KEY"
				}
				e := newEnv(t, secrets{"env:URL": rcv.hookURL(), "env:KEY": "k"}, r)
				ev.Time = t0
				e.publish(t, ev)
				if got := e.deliver(t); got != 1 {
					t.Fatalf("delivered %d messages, want 1", got)
				}
				reqs := rcv.Requests()
				if len(reqs) != 1 {
					t.Fatalf("receiver got %d requests, want 1", len(reqs))
				}
				body := reqs[0].Body
				var doc any
				if err := json.Unmarshal(body, &doc); err != nil {
					t.Fatalf("payload is not JSON: %v", err)
				}
				var pretty bytes.Buffer
				_ = json.Indent(&pretty, body, "", "  ")
				pretty.WriteString("\n")
				golden(t, filepath.Join("testdata", "golden", string(kind), string(ev.Type)+".json"), pretty.Bytes())
				var probs problems
				switch kind {
				case notify.KindSlack:
					probs = checkSlack(doc)
				case notify.KindTeams:
					probs = checkTeams(doc, len(body))
				}
				for _, p := range probs {
					t.Error(p)
				}
			})
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("payload differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestSlackEscapesAndLimits: user text cannot inject links or mentions, and oversized text is
// cut to Slack's limits instead of failing the message.
func TestSlackEscapesAndLimits(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	e := newEnv(t, secrets{"env:URL": rcv.hookURL()}, notify.Route{Name: "s", Kind: notify.KindSlack, URL: "env:URL"})
	fields := map[string]string{"agent": strings.Repeat("x", 2500), "provider": "<!channel>", "reason": "a & b"}
	e.publish(t, notify.Event{
		Type: notify.AgentStartFailed, Severity: notify.SeverityError, Pool: strings.Repeat("p", 200),
		Summary: "<!here> " + strings.Repeat("&", 4000), Fields: fields, Time: t0,
	})
	e.deliver(t)
	body := rcv.Requests()[0].Body
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range checkSlack(doc) {
		t.Error(p)
	}
	for _, bad := range []string{"<!here>", "<!channel>", "a & b"} {
		if bytes.Contains(body, []byte(bad)) {
			t.Errorf("payload contains %q unescaped", bad)
		}
	}
	if !bytes.Contains(body, []byte("&lt;!channel&gt;")) {
		t.Errorf("payload lacks the escaped mention: %s", body)
	}
}

// TestTeamsSizeLimit: a huge text is cut so the message fits in 28 KB.
func TestTeamsSizeLimit(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	e := newEnv(t, secrets{"env:URL": rcv.hookURL()}, notify.Route{Name: "t", Kind: notify.KindTeams, URL: "env:URL"})
	e.publish(t, notify.Event{Type: notify.OrphanTerminated, Severity: notify.SeverityWarning,
		Summary: strings.Repeat("\"quoted\" ", 10000), Time: t0})
	e.deliver(t)
	body := rcv.Requests()[0].Body
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range checkTeams(doc, len(body)) {
		t.Error(p)
	}
	if len(body) < 20<<10 {
		t.Errorf("payload is %d bytes: cut far more than needed", len(body))
	}
}

// TestWebhookSignature verifies a delivery as a receiver would, and rejects a replay and a
// tampered body.
func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	const key = "shh-signing-key"
	e := newEnv(t, secrets{"env:URL": rcv.hookURL(), "env:KEY": key},
		notify.Route{Name: "w", Kind: notify.KindWebhook, URL: "env:URL", SigningSecret: "env:KEY"})
	e.publish(t, samples[8])
	e.deliver(t)
	req := rcv.Requests()[0]
	ts, sig := req.Header.Get(notify.HeaderTimestamp), req.Header.Get(notify.HeaderSignature)
	if err := notify.Verify([]byte(key), ts, sig, req.Body, e.clock.Now(), 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got, want := req.Header.Get(notify.HeaderEvent), string(notify.RunCompleted); got != want {
		t.Errorf("%s = %q, want %q", notify.HeaderEvent, got, want)
	}
	if req.Header.Get(notify.HeaderDelivery) == "" {
		t.Errorf("no %s header", notify.HeaderDelivery)
	}
	for name, tc := range map[string]struct {
		key  string
		body []byte
		now  time.Time
	}{
		"replayed later": {key, req.Body, e.clock.Now().Add(6 * time.Minute)},
		"tampered body":  {key, append([]byte(" "), req.Body...), e.clock.Now()},
		"wrong key":      {"other", req.Body, e.clock.Now()},
	} {
		if err := notify.Verify([]byte(tc.key), ts, sig, tc.body, tc.now, 5*time.Minute); err == nil {
			t.Errorf("%s: Verify accepted it", name)
		}
	}
	var p notify.WebhookPayload
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.Type != notify.RunCompleted || p.Fields["region"] != "eu-west-1" || p.URL == "" {
		t.Errorf("payload = %+v, want version 1, the run's fields and its URL", p)
	}
}
