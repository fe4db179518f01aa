package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/web"
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newSampleSource(), nil)
	tests := []struct {
		method, path string
		wantCode     int
		wantType     string // prefix of Content-Type; "" means not checked
		wantBody     string // substring; "" means not checked
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "fleet under test"},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/api/status", 200, "application/json", `"pools":[`},
		{"GET", "/metrics", 200, "text/plain", "adofleet_webtest_probe_total 3"},
		{"GET", "/?window=6h", 200, "text/html; charset=utf-8", `data-window="6h"`},
		{"GET", "/?window=2d", 400, "text/plain", "want one of 1h, 6h, 24h"},
		{"GET", "/api/history", 200, "application/json", `"pools":[{"pool":"linux","max":10,"points":[`},
		{"GET", "/api/history?window=24h", 200, "application/json", `"step_seconds":60`},
		{"GET", "/api/history?window=1m", 400, "application/json", `"error":"window \"1m\": want one of 1h, 6h, 24h"`},
		{"GET", "/chart/linux", 200, "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="linux" data-window="1h"`},
		{"GET", "/chart/linux?window=6h", 200, "image/svg+xml", `data-window="6h"`},
		{"GET", "/chart/macos", 404, "text/plain", "no pool macos"},
		{"POST", "/api/events", 405, "text/plain", ""},
		{"POST", "/chart/linux", 405, "text/plain", ""},
		{"GET", "/healthz", 200, "text/plain; charset=utf-8", "ok"},
		{"GET", "/readyz", 200, "text/plain; charset=utf-8", "ok"},
		{"GET", "/static/app.js", 200, "text/javascript", "api/status"},
		{"GET", "/static/style.css", 200, "text/css", "tabular-nums"},
		{"GET", "/static/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"GET", "/static/missing.js", 404, "text/plain", "not found"},
		{"GET", "/static/", 404, "text/plain", "not found"},
		{"GET", "/index.html", 404, "text/plain", "not found"},
		{"GET", "/api", 404, "text/plain", "not found"},
		{"POST", "/", 405, "text/plain", ""},
		{"PUT", "/api/status", 405, "text/plain", ""},
		{"DELETE", "/metrics", 405, "text/plain", ""},
		{"POST", "/healthz", 405, "text/plain", ""},
		{"PATCH", "/readyz", 405, "text/plain", ""},
		{"POST", "/static/app.js", 405, "text/plain", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			res, body := do(t, tt.method, srv.URL+tt.path)
			if got := res.StatusCode; got != tt.wantCode {
				t.Errorf("status: got %d, want %d (body %q)", got, tt.wantCode, body)
			}
			if got := res.Header.Get("Content-Type"); tt.wantType != "" && !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type: got %q, want prefix %q", got, tt.wantType)
			}
			if tt.wantBody != "" && !strings.Contains(body, tt.wantBody) {
				t.Errorf("body: got %q, want it to contain %q", truncate(body), tt.wantBody)
			}
			if tt.wantCode == 405 {
				if got := res.Header.Get("Allow"); !strings.Contains(got, "GET") {
					t.Errorf("Allow: got %q, want it to name GET", got)
				}
			}
			wantHeaders := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
			}
			for k, want := range wantHeaders {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if got := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "default-src 'self'") {
				t.Errorf("Content-Security-Policy: got %q, want it to start with default-src 'self'", got)
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ready    func() error
		wantCode int
		wantBody string
	}{
		{"no ready func", nil, 200, "ok"},
		{"ready", func() error { return nil }, 200, "ok"},
		{"not ready", func() error { return errors.New("store not open yet") }, 503, "not ready: store not open yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, &fakeSource{}, tt.ready)
			res, body := do(t, "GET", srv.URL+"/readyz")
			if res.StatusCode != tt.wantCode || strings.TrimSpace(body) != tt.wantBody {
				t.Errorf("GET /readyz: got %d %q, want %d %q", res.StatusCode, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestAPIStatusShape(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, &fakeSource{st: sampleStatus()}, nil)
	res, body := do(t, "GET", srv.URL+"/api/status")
	if res.StatusCode != 200 {
		t.Fatalf("GET /api/status: got %d, want 200", res.StatusCode)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}

	// The wire names are the contract static/app.js reads.
	var raw struct {
		GeneratedAt string           `json:"generated_at"`
		Pools       []map[string]any `json:"pools"`
		Decisions   []map[string]any `json:"decisions"`
		Agents      []map[string]any `json:"agents"`
		Failures    []map[string]any `json:"failures"`
		Checks      []map[string]any `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	var top map[string]any
	if err := json.Unmarshal([]byte(body), &top); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	if got, want := keys(top), []string{"agents", "checks", "currency", "decisions", "failures", "generated_at", "pools", "sampled_at"}; !cmp.Equal(got, want) {
		t.Errorf("top-level keys (-got +want):\n%s", cmp.Diff(got, want))
	}
	if got, want := raw.GeneratedAt, "2025-03-14T09:26:53Z"; got != want {
		t.Errorf("generated_at: got %q, want %q", got, want)
	}
	wantPoolKeys := []string{"agents", "cost", "last_error", "last_reconcile", "max", "min", "name", "provider", "queued_jobs", "running_jobs", "standby"}
	if got := keys(raw.Pools[0]); !cmp.Equal(got, wantPoolKeys) {
		t.Errorf("pool keys (-got +want):\n%s", cmp.Diff(got, wantPoolKeys))
	}
	// A pool never reconciled omits last_reconcile rather than sending year 1.
	if got, want := keys(raw.Pools[1]), without(wantPoolKeys, "last_reconcile"); !cmp.Equal(got, want) {
		t.Errorf("keys of a never-reconciled pool (-got +want):\n%s", cmp.Diff(got, want))
	}
	agents, _ := raw.Pools[0]["agents"].(map[string]any)
	if got, want := keys(agents), []string{"busy", "draining", "idle", "offline", "starting"}; !cmp.Equal(got, want) {
		t.Errorf("agents keys (-got +want):\n%s", cmp.Diff(got, want))
	}
	cost, _ := raw.Pools[0]["cost"].(map[string]any)
	if got, want := keys(cost), []string{"agent_hours_24h", "last_24h", "per_agent_hour", "per_day"}; !cmp.Equal(got, want) {
		t.Errorf("cost keys (-got +want):\n%s", cmp.Diff(got, want))
	}
	for _, tt := range []struct {
		name string
		obj  map[string]any
		want []string
	}{
		{"decision", raw.Decisions[0], []string{"action", "pool", "reason", "target", "time"}},
		// The newest agent has not registered: the zero times are left out.
		{"agent", raw.Agents[0], []string{"instance_id", "job", "launched", "lifetime_seconds", "name", "pool", "reason", "startup_seconds", "state"}},
		{"gone agent", raw.Agents[2], []string{"gone", "instance_id", "job", "launched", "lifetime_seconds", "name", "pool", "reason", "registered", "startup_seconds", "state"}},
		{"failure", raw.Failures[0], []string{"kind", "message", "pool", "target", "time"}},
		{"check", raw.Checks[0], []string{"job_id", "plan_id", "pool", "received", "waiting_seconds"}},
	} {
		if got := keys(tt.obj); !cmp.Equal(got, tt.want) {
			t.Errorf("%s keys (-got +want):\n%s", tt.name, cmp.Diff(got, tt.want))
		}
	}

	// The values round-trip, with every list newest first.
	var got web.Status
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decoding into web.Status: %v", err)
	}
	want := sampleStatus()
	d, a, f := want.Decisions, want.Agents, want.Failures
	want.Decisions = []web.Decision{d[1], d[2], d[0]}
	want.Agents = []web.Agent{a[1], a[0], a[2]}
	want.Failures = []web.Failure{f[1], f[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/api/status (-want +got):\n%s", diff)
	}
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func without(s []string, drop string) []string {
	var out []string
	for _, v := range s {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

func TestAPIStatusEmptyAndCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		decisions     int
		wantDecisions int
	}{
		{"nil slices are empty arrays", 0, 0},
		{"under the cap", 7, 7},
		{"over the cap keeps the newest 50", 73, web.MaxDecisions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := web.Status{GeneratedAt: t0}
			for i := range tt.decisions {
				// Oldest first, as a log would append them.
				st.Decisions = append(st.Decisions, web.Decision{
					Time: t0.Add(time.Duration(i) * time.Second), Pool: "p", Action: "launch", Reason: fmt.Sprint("n=", i),
				})
			}
			srv := newTestServer(t, &fakeSource{st: st}, nil)
			_, body := do(t, "GET", srv.URL+"/api/status")
			if !strings.Contains(body, `"pools":[]`) || !strings.Contains(body, `"decisions":[`) {
				t.Errorf("body %q: want pools and decisions as JSON arrays", body)
			}
			var got web.Status
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("decoding %q: %v", body, err)
			}
			if len(got.Decisions) != tt.wantDecisions {
				t.Fatalf("decisions: got %d, want %d", len(got.Decisions), tt.wantDecisions)
			}
			for i, d := range got.Decisions {
				if want := fmt.Sprint("n=", tt.decisions-1-i); d.Reason != want {
					t.Errorf("decision %d: got %q, want %q (newest first)", i, d.Reason, want)
				}
			}
		})
	}
}

func TestSourceError(t *testing.T) {
	t.Parallel()
	src := &fakeSource{err: errors.New("controller not started")}
	srv := newTestServer(t, src, nil)

	res, body := do(t, "GET", srv.URL+"/api/status")
	if res.StatusCode != 500 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/status: got %d %q, want 500 application/json", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var apiErr struct{ Error string }
	if err := json.Unmarshal([]byte(body), &apiErr); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	if got, want := apiErr.Error, "reading status: controller not started"; got != want {
		t.Errorf("error: got %q, want %q", got, want)
	}

	res, body = do(t, "GET", srv.URL+"/")
	if res.StatusCode != 500 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /: got %d %q, want 500 text/html", res.StatusCode, res.Header.Get("Content-Type"))
	}
	banner := `<div id="error-banner" class="banner" role="alert">`
	if !strings.Contains(body, banner) || !strings.Contains(body, "reading status: controller not started") {
		t.Errorf("page: want a visible error banner with the reason, got %s", truncate(body[strings.Index(body, "<main>"):]))
	}
	if !strings.Contains(body, `<p id="no-pools" class="empty" hidden>`) {
		t.Errorf("error page: want the \"No pools configured\" note hidden, since the pools are unknown")
	}
	// The healthy page renders the banner hidden.
	src.set(sampleStatus(), nil)
	_, body = do(t, "GET", srv.URL+"/")
	if strings.Contains(body, banner) || !strings.Contains(body, `role="alert" hidden`) {
		t.Errorf("healthy page: want the error banner hidden")
	}
}

func TestPageEscapesHTML(t *testing.T) {
	t.Parallel()
	st := sampleStatus()
	st.Pools[0].Name = `a"b<i>`
	st.Pools[0].LastError = `<img src=x onerror=alert(1)>`
	st.Decisions = []web.Decision{{Time: t0, Pool: "linux", Action: "launch", Reason: `<script>alert("x")</script>`}}
	srv := newTestServer(t, &fakeSource{st: st}, nil)
	_, body := do(t, "GET", srv.URL+"/")
	for _, bad := range []string{`<script>alert`, `<img src=x`, `"b<i>`} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, `&lt;img src=x onerror=alert(1)&gt;`, `data-pool="a&#34;b&lt;i&gt;"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks escaped %q", want)
		}
	}
	// The parsed page reads back the original strings.
	f := dataFields(t, body)
	if got, want := f["decision/0/reason"].Text, `<script>alert("x")</script>`; got != want {
		t.Errorf("decision reason: got %q, want %q", got, want)
	}
	if got, want := f[`a"b<i>/name`].Text, `a"b<i>`; got != want {
		t.Errorf("pool name: got %q, want %q", got, want)
	}
}

func TestNewRequiresSourceAndGatherer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts web.Options
		want string
	}{
		{"no source", web.Options{Gatherer: prometheus.NewRegistry()}, "Options.Source is nil"},
		{"no gatherer", web.Options{Source: &fakeSource{}}, "Options.Gatherer is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := web.New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("web.New: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNewHTTPServer(t *testing.T) {
	t.Parallel()
	h, err := web.New(web.Options{Source: &fakeSource{}, Gatherer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := web.NewHTTPServer("127.0.0.1:0", h)
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s: got %v, want a bound", name, d)
		}
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes >= http.DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes: got %d, want a bound below the default %d", srv.MaxHeaderBytes, http.DefaultMaxHeaderBytes)
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	res, body := do(t, "GET", "http://"+ln.Addr().String()+"/healthz")
	if res.StatusCode != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("GET /healthz: got %d %q, want 200 ok", res.StatusCode, body)
	}
}
