package servicehooks_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
	"github.com/adofleet/adofleet/internal/servicehooks"
	"github.com/adofleet/adofleet/internal/webhookauth/webhookauthtest"
)

const (
	hookUser   = "ado-hooks"
	hookPass   = "s3cret-hook-password"
	hookSecret = "shared-secret-value"
	projectID  = "3f1c8d2a-6b7e-4a90-8c21-d5e4f3a2b1c0"
)

var testNow = time.Date(2025, 6, 11, 12, 0, 0, 0, time.UTC)

type env struct {
	url   string
	rec   *notifytest.Recorder
	reg   *prometheus.Registry
	mu    sync.Mutex
	wakes []string
}

func newEnv(t *testing.T, edit func(*servicehooks.Options)) *env {
	t.Helper()
	e := &env{rec: &notifytest.Recorder{}, reg: prometheus.NewRegistry()}
	opts := servicehooks.Options{
		Auth:    servicehooks.Auth{Username: hookUser, Password: hookPass, Secret: hookSecret},
		Events:  e.rec,
		Account: "123456789012", Region: "eu-west-1",
		Wake: func(pool string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.wakes = append(e.wakes, pool)
		},
		MaxBodyBytes: 16 << 10,
		Now:          func() time.Time { return testNow },
		Registerer:   e.reg,
	}
	if edit != nil {
		edit(&opts)
	}
	h, err := servicehooks.NewHandler(opts)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.url = srv.URL + servicehooks.Path
	return e
}

type reply struct {
	code int
	body map[string]any
}

// post sends body as ADO does, authenticated with auth (nil: basic auth with the right credentials).
func (e *env) post(t *testing.T, body []byte, auth func(*http.Request)) reply {
	t.Helper()
	if auth == nil {
		auth = webhookauthtest.Basic(hookUser, hookPass)
	}
	code, data := webhookauthtest.Post(t, e.url, map[string]string{"Content-Type": "application/json; charset=utf-8"}, body, auth)
	r := reply{code: code}
	if err := json.Unmarshal(data, &r.body); err != nil {
		t.Fatalf("reply is not JSON: %q", data)
	}
	return r
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runFields are RunCompleted's fields with this environment's account and region.
func runFields(kv ...string) map[string]string {
	f := map[string]string{
		"pipeline": "", "pipelineUrl": "", "runId": "", "result": "", "commit": "", "branch": "",
		"requestedBy": "", "duration": "", "project": "", "account": "123456789012", "region": "eu-west-1",
	}
	for i := 0; i < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return f
}

func TestDeliveriesBecomeEvents(t *testing.T) {
	t.Parallel()
	const web = "https://dev.azure.com/contoso/" + projectID + "/_build/results?buildId="
	tests := []struct {
		fixture string
		want    notify.Event
	}{
		{
			fixture: "run_succeeded.json",
			want: notify.Event{
				Type: notify.RunCompleted, Severity: notify.SeverityInfo,
				Time:    time.Date(2025, 6, 11, 9, 17, 45, 112000000, time.UTC),
				Summary: "pipeline deploy-config run 20250611.3 succeeded in 3m43s on main (4e1f0a9c)",
				Fields: runFields("pipeline", "deploy-config", "pipelineUrl", web+"4811", "runId", "4811",
					"result", "succeeded", "commit", "4e1f0a9c2b7d8e3f5a6b1c0d9e8f7a6b5c4d3e2f", "branch", "main",
					"duration", "3m43s", "project", projectID),
				DedupKey: "run.completed/" + projectID + "/4811",
			},
		},
		{
			fixture: "run_failed_project.json",
			want: notify.Event{
				Type: notify.RunCompleted, Severity: notify.SeverityError,
				Time:    time.Date(2025, 6, 12, 22, 41, 30, 0, time.UTC),
				Summary: "pipeline ansible-site run 902 failed in 41m30s on refs/tags/v2.3.0 (b7c6d5e4)",
				Fields: runFields("pipeline", "ansible-site", "pipelineUrl", "https://dev.azure.com/contoso/Platform/_build/results?buildId=902",
					"runId", "902", "result", "failed", "commit", "b7c6d5e4", "branch", "refs/tags/v2.3.0",
					"duration", "41m30s", "project", "Platform"),
				DedupKey: "run.completed/Platform/902",
			},
		},
		{
			fixture: "stage_failed.json",
			want: notify.Event{
				Type: notify.RunStageFailed, Severity: notify.SeverityError, Time: testNow,
				Summary: "pipeline deploy-config run 20250611.5: stage Configure instances failed",
				Fields: mergeFields(runFields("pipeline", "deploy-config", "pipelineUrl", web+"4813", "runId", "4813",
					"result", "failed", "project", projectID), "stage", "Configure instances"),
				DedupKey: "run.stage_failed/" + projectID + "/4813/Configure instances",
			},
		},
		{
			fixture: "job_failed.json",
			want: notify.Event{
				Type: notify.RunJobFailed, Severity: notify.SeverityError,
				Time:    time.Date(2025, 6, 11, 11, 3, 55, 0, time.UTC),
				Summary: "pipeline deploy-config run 20250611.7: job ansible failed in 1m45s",
				Fields: mergeFields(runFields("pipeline", "deploy-config", "pipelineUrl", web+"4815", "runId", "4815",
					"result", "failed", "duration", "1m45s", "project", projectID), "job", "ansible", "stage", "Configure"),
				DedupKey: "run.job_failed/" + projectID + "/4815/ansible/Configure",
			},
		},
		{
			fixture: "build_complete.json",
			want: notify.Event{
				Type: notify.RunCompleted, Severity: notify.SeverityWarning,
				Time:    time.Date(2025, 6, 13, 8, 5, 0, 0, time.UTC),
				Summary: "pipeline ansible-site run 20250613.1 partiallySucceeded in 5m0s on release/2.3 (0a1b2c3d)",
				Fields: runFields("pipeline", "ansible-site", "pipelineUrl", "https://dev.azure.com/contoso/Platform/_build/results?buildId=903",
					"runId", "903", "result", "partiallySucceeded", "commit", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
					"branch", "release/2.3", "requestedBy", "Dana Ops", "duration", "5m0s", "project", "Platform"),
				DedupKey: "run.completed/Platform/903",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := e.post(t, fixture(t, tt.fixture), nil)
			if r.code != http.StatusOK || r.body["status"] != "published" {
				t.Fatalf("reply = %d %v, want 200 published", r.code, r.body)
			}
			if diff := cmp.Diff([]notify.Event{tt.want}, e.rec.Events()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func mergeFields(f map[string]string, kv ...string) map[string]string {
	for i := 0; i < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	return f
}

func TestIgnoredDeliveries(t *testing.T) {
	t.Parallel()
	stageOK := bytes.Replace(fixture(t, "stage_failed.json"), []byte(`"result": "failed"`), []byte(`"result": "succeeded"`), 1)
	tests := []struct {
		name     string
		body     []byte
		wantWake []string
	}{
		{"run in progress", fixture(t, "run_in_progress.json"), nil},
		{"stage succeeded", stageOK, nil},
		{"job waiting wakes the pools", fixture(t, "job_waiting.json"), []string{""}},
		{"unknown event type", []byte(`{"id":"x","eventType":"git.push","publisherId":"tfs","resource":{"pushId":3}}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := e.post(t, tt.body, nil)
			if r.code != http.StatusAccepted || r.body["status"] != "ignored" {
				t.Errorf("reply = %d %v, want 202 ignored", r.code, r.body)
			}
			if got := e.rec.Events(); len(got) != 0 {
				t.Errorf("published %+v, want nothing", got)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if diff := cmp.Diff(tt.wantWake, e.wakes); diff != "" {
				t.Errorf("wakes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMalformedDeliveriesName(t *testing.T) {
	t.Parallel()
	run := string(fixture(t, "run_succeeded.json"))
	tests := []struct {
		name      string
		body      string
		wantField string
	}{
		{"not JSON", `{"eventType": `, "body"},
		{"no event type", `{"id":"x","resource":{}}`, "eventType"},
		{"no resource", `{"eventType":"ms.vss-pipelines.run-state-changed-event"}`, "resource"},
		{"no run", `{"eventType":"ms.vss-pipelines.run-state-changed-event","resource":{"pipeline":{"name":"p"}}}`, "resource.run"},
		{"run id of the wrong type", strings.Replace(run, `"id": 4811`, `"id": "4811"`, 1), "resource.run.id"},
		{"bad finish date", strings.Replace(run, `"finishedDate": "2025-06-11T09:17:45.1120000Z"`, `"finishedDate": "yesterday"`, 1), "resource.run.finishedDate"},
		{"no result", strings.Replace(run, `"result": "succeeded",`, ``, 1), "resource.run.result"},
		{"no pipeline name", `{"eventType":"ms.vss-pipelines.run-state-changed-event","resource":{"run":{"id":1,"state":"completed","result":"failed"}}}`, "resource.pipeline.name"},
		{"job without state", `{"eventType":"ms.vss-pipelines.job-state-changed-event","resource":{"job":{"name":"a"}}}`, "resource.job.state"},
		{"build without definition", `{"eventType":"build.complete","resource":{"id":3,"result":"failed"}}`, "resource.definition.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := e.post(t, []byte(tt.body), nil)
			if r.code != http.StatusBadRequest {
				t.Fatalf("status = %d (%v), want 400", r.code, r.body)
			}
			fe, _ := r.body["error"].(map[string]any)
			if got := fe["field"]; got != tt.wantField {
				t.Errorf("error field = %v, want %q (reply %v)", got, tt.wantField, r.body)
			}
			if got := e.rec.Events(); len(got) != 0 {
				t.Errorf("published %+v on a malformed delivery", got)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	body := fixture(t, "run_succeeded.json")
	tests := []struct {
		name string
		auth func(*http.Request)
		want int
	}{
		{"basic auth", func(r *http.Request) { r.SetBasicAuth(hookUser, hookPass) }, http.StatusOK},
		{"shared secret", func(r *http.Request) { r.Header.Set("X-Adofleet-Secret", hookSecret) }, http.StatusOK},
		{"no credentials", func(*http.Request) {}, http.StatusUnauthorized},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth(hookUser, hookPass+"x") }, http.StatusUnauthorized},
		{"wrong user", func(r *http.Request) { r.SetBasicAuth("someone", hookPass) }, http.StatusUnauthorized},
		{"wrong secret", func(r *http.Request) { r.Header.Set("X-Adofleet-Secret", hookSecret[:5]) }, http.StatusUnauthorized},
		{"secret in another header", func(r *http.Request) { r.Header.Set("X-Other", hookSecret) }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := e.post(t, body, tt.auth)
			if r.code != tt.want {
				t.Fatalf("status = %d, want %d", r.code, tt.want)
			}
			if n := len(e.rec.Events()); (tt.want == http.StatusOK) != (n == 1) {
				t.Errorf("published %d events with status %d", n, r.code)
			}
		})
	}
}

func TestOversizedBodyIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *servicehooks.Options) { o.MaxBodyBytes = 1024 })
	body := fixture(t, "run_succeeded.json") // about 2.5 KiB
	r := e.post(t, body, nil)
	if r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", r.code)
	}
	if got := e.rec.Events(); len(got) != 0 {
		t.Errorf("published %+v from an oversized body", got)
	}
	if got := testutil.ToFloat64(mustCounter(t, e.reg, "too_large")); got != 1 {
		t.Errorf("requests_total{outcome=too_large} = %v, want 1", got)
	}
}

func TestPublishFailureAnswers503(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.rec.Fail(errors.New("outbox: database is locked"))
	r := e.post(t, fixture(t, "run_succeeded.json"), nil)
	if r.code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503 so that ADO retries the delivery", r.code)
	}
}

func TestNewHandlerNeedsAuthAndEvents(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]servicehooks.Options{
		"no auth":           {Events: notify.Discard},
		"user without pass": {Events: notify.Discard, Auth: servicehooks.Auth{Username: "u", Secret: "s"}},
		"no events":         {Auth: servicehooks.Auth{Secret: "s"}},
	} {
		if _, err := servicehooks.NewHandler(o); err == nil {
			t.Errorf("%s: NewHandler succeeded, want an error", name)
		}
	}
}

// mustCounter returns the requests counter of outcome, whatever its event label.
func mustCounter(t *testing.T, reg *prometheus.Registry, outcome string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "adofleet_servicehooks_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sum"})
	c.Add(sum)
	return c
}
