package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/web"
)

// readFieldsJS returns every data-field element's text keyed as
// element.key does in helpers_test.go.
const readFieldsJS = `(() => {
  const out = {};
  document.querySelectorAll("[data-field]").forEach((e) => {
    const row = e.closest("[data-row]");
    const key = row ? row.dataset.row + "/" + e.dataset.field
                    : (e.dataset.pool || "") + "/" + e.dataset.field;
    out[key] = e.textContent.trim();
  });
  return out;
})()`

// readChartsJS returns, per pool chart, the number of points of each series.
const readChartsJS = `(() => {
  const out = {};
  document.querySelectorAll("svg.chart[data-chart]").forEach((svg) => {
    const series = {};
    svg.querySelectorAll("polyline[data-series]").forEach((l) => {
      const pts = l.getAttribute("points").trim();
      series[l.dataset.series] = pts === "" ? 0 : pts.split(/\s+/).length;
    });
    out[svg.dataset.chart] = series;
  });
  return out;
})()`

// chromiumPath finds the browser, or fails with how to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("ADOFLEET_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	// In CI the browser test always runs: a missing Chromium fails it.
	if os.Getenv("ADOFLEET_SKIP_BROWSER") == "1" && os.Getenv("CI") != "true" {
		t.Skipf("no Chromium at %s and ADOFLEET_SKIP_BROWSER=1", path)
	}
	t.Fatalf("no Chromium at %s: install it with `apt-get update && apt-get install -y chromium`, "+
		"or set ADOFLEET_CHROMIUM to a Chromium binary, or set ADOFLEET_SKIP_BROWSER=1 to skip this test", path)
	return ""
}

// artifactDir is where screenshots go: $ADOFLEET_TEST_ARTIFACTS/web, or
// adofleet-test-artifacts/web under os.TempDir(). It is kept after the test,
// so the screenshots can be looked at; the test logs its path.
func artifactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("ADOFLEET_TEST_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "adofleet-test-artifacts")
	}
	dir := filepath.Join(root, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating artifact dir: %v", err)
	}
	t.Logf("screenshots go to %s", dir)
	return dir
}

// newBrowser starts a headless Chromium with the flags this closed-network
// machine needs and a fresh profile, and returns a tab's context.
func newBrowser(t *testing.T, bin string) context.Context {
	t.Helper()
	// A bound for the whole browser session, so a hung browser fails the test.
	base, cancelBase := context.WithTimeout(context.Background(), 60*time.Second)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelBase()
	})
	return ctx
}

// consoleLog collects the page's console errors, warnings and exceptions.
type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleLog) watch(ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				c.mu.Lock()
				c.msgs = append(c.msgs, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
				c.mu.Unlock()
			}
		}
	}()
}

func (c *consoleLog) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// checkMatchesAPI reads /api/status over HTTP and compares every value the
// page shows with it: pools, totals and every row of every list.
func checkMatchesAPI(t *testing.T, ctx context.Context, url string) web.Status {
	t.Helper()
	_, body := do(t, "GET", url+"/api/status")
	var st web.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("decoding /api/status %q: %v", body, err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](readFieldsJS))
	if err != nil {
		t.Fatalf("reading the page's fields: %v", err)
	}
	want := wantFields(st)
	got := map[string]string{}
	for k := range want {
		got[k] = page[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page vs /api/status (-api +page):\n%s", diff)
	}
	for _, extra := range []string{
		fmt.Sprintf("decision/%d/time", len(st.Decisions)), fmt.Sprintf("agent/%d/name", len(st.Agents)),
		fmt.Sprintf("failure/%d/time", len(st.Failures)), fmt.Sprintf("check/%d/pool", len(st.Checks)),
	} {
		if _, ok := page[extra]; ok {
			t.Errorf("page shows %s, a row /api/status does not have", extra)
		}
	}
	return st
}

// checkChartsMatchAPI compares each chart's series with /api/history: one
// chart per pool, four series, as many points as the API has.
func checkChartsMatchAPI(t *testing.T, ctx context.Context, url, window string) {
	t.Helper()
	_, body := do(t, "GET", url+"/api/history?window="+window)
	var h web.History
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("decoding /api/history %q: %v", body, err)
	}
	want := map[string]map[string]float64{}
	for _, p := range h.Pools {
		n := float64(len(p.Points))
		want[p.Pool] = map[string]float64{"queued": n, "starting": n, "idle": n, "busy": n}
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]map[string]float64](readChartsJS))
	if err != nil {
		t.Fatalf("reading the charts: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charts vs /api/history (-api +page):\n%s", diff)
	}
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("writing screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
}

// waitFor polls a JavaScript predicate until it is true. The stream sends a
// change within one refresh (300 ms in these tests), so seconds cover many.
func waitFor(t *testing.T, ctx context.Context, what, predicate string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(7*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// nextStatus is sampleStatus a minute later: more demand on linux, the
// windows error cleared, a new macos pool, a new agent, failure and check.
func nextStatus() web.Status {
	next := sampleStatus()
	next.GeneratedAt = t0.Add(time.Minute)
	next.SampledAt = t0.Add(time.Minute)
	next.Pools[0].QueuedJobs = 9
	next.Pools[0].Agents = web.AgentCounts{Starting: 4, Idle: 0, Busy: 5, Draining: 0, Offline: 5}
	next.Pools[0].LastReconcile = t0.Add(time.Minute)
	next.Pools[0].Cost = web.Cost{PerAgentHour: 0.0416, AgentHours24h: 61.6, Last24h: 2.56256, PerDay: 8.9856}
	next.Pools[1].LastError = "" // the error clears
	next.Pools = append(next.Pools, web.PoolStatus{Name: "macos", Provider: "ec2", Max: 2, QueuedJobs: 1,
		Agents: web.AgentCounts{Starting: 1}, LastError: "launch: insufficient capacity"})
	next.Decisions = append(next.Decisions, web.Decision{Time: t0.Add(time.Second), Pool: "linux", Action: "launch",
		Target: "", Reason: `<img src=x onerror="window.__pwned=1">5 queued`})
	next.Agents = append(next.Agents, web.Agent{Name: "adofleet-linux-10", Pool: "linux", State: "launching",
		Launched: t0.Add(50 * time.Second), LifetimeSeconds: 10, Reason: "5 queued jobs"})
	next.Failures = append(next.Failures, web.Failure{Time: t0.Add(30 * time.Second), Pool: "macos",
		Kind: "start-failed", Target: "adofleet-macos-1", Message: "instance ended before its agent registered: <b>bold</b>"})
	next.Checks = append(next.Checks, web.Check{Pool: "macos", PlanID: "99aa", JobID: "j2", Received: t0, WaitingSeconds: 60})
	return next
}

func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	bin := chromiumPath(t)
	dir := artifactDir(t)
	src := newSampleSource()
	srv := newTestServer(t, src, nil) // httptest listens on 127.0.0.1
	ctx := newBrowser(t, bin)
	var console consoleLog
	console.watch(ctx)

	// First render: the server's HTML matches the API, charts included.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`tr[data-pool="linux"]`),
	); err != nil {
		t.Fatalf("loading the dashboard: %v", err)
	}
	checkMatchesAPI(t, ctx, srv.URL)
	checkChartsMatchAPI(t, ctx, srv.URL, "1h")
	waitFor(t, ctx, "the live stream", `!document.getElementById("live").hidden`)
	screenshot(t, ctx, dir, "dashboard.png")

	// Mark this document and hold one cell, then change the data: the script
	// must update that same cell without a reload.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`
		window.__marker = "first-load";
		window.__queued = document.querySelector('[data-pool="linux"][data-field="queued"]');`)); err != nil {
		t.Fatalf("marking the page: %v", err)
	}
	next := nextStatus()
	hist := sampleHistory(t0, map[string]int{"linux": 10, "windows": 4})
	for name, ph := range hist { // one more sample in a new minute
		ph.Points = append(ph.Points, web.Point{Time: next.SampledAt.Truncate(time.Minute), Queued: 9, Starting: 4, Busy: 5})
		hist[name] = ph
	}
	hist["macos"] = web.PoolHistory{Pool: "macos", Max: 2, Points: []web.Point{{Time: next.SampledAt.Truncate(time.Minute), Queued: 1, Starting: 1}}}
	src.setHistory(hist)
	src.set(next, nil)

	waitFor(t, ctx, "the live update", `document.querySelector('[data-pool="macos"][data-field="queued"]') !== null`)
	waitFor(t, ctx, "the new charts", `document.body.dataset.sampledAt === "2025-03-14T09:27:53Z" &&
		document.querySelector('svg.chart[data-chart="macos"]') !== null`)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`window.__marker === "first-load" && window.__queued.isConnected && window.__queued.textContent === "9"`))
	if err != nil || !ok {
		t.Fatalf("the page reloaded or replaced the cell instead of updating it in place (ok=%v, err=%v)", ok, err)
	}
	checkMatchesAPI(t, ctx, srv.URL)
	checkChartsMatchAPI(t, ctx, srv.URL, "1h")
	state, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		pwned: window.__pwned === 1,
		bold: document.querySelector(".failures b") !== null,
		scripts: document.scripts.length,
		windowsError: document.querySelector('tr[data-pool="windows"]').classList.contains("has-error"),
		macosError: document.querySelector('tr[data-pool="macos"]').classList.contains("has-error"),
		busyWidth: document.querySelector('[data-pool="linux"] [data-seg="busy"]').getAttribute("width"),
		generated: document.getElementById("generated-at").textContent,
		live: !document.getElementById("live").hidden,
		failureBadge: document.querySelector('[data-row="failure/0"] [data-field="kind"]').dataset.value,
	})`))
	if err != nil {
		t.Fatalf("reading page state: %v", err)
	}
	wantState := map[string]any{
		"pwned": false, "bold": false, "scripts": float64(1), "windowsError": false, "macosError": true,
		"busyWidth": "50.00", "generated": "2025-03-14 09:27:53 UTC", "live": true, "failureBadge": "start-failed",
	}
	if diff := cmp.Diff(wantState, state); diff != "" {
		t.Errorf("page state after the update (-want +got):\n%s", diff)
	}
	screenshot(t, ctx, dir, "dashboard-live.png")

	// A failing source shows the banner and keeps the last numbers; recovery
	// hides it again.
	src.set(next, errors.New("controller stopped"))
	waitFor(t, ctx, "the error banner", `!document.getElementById("error-banner").hidden && document.body.classList.contains("stale")`)
	text, err := chromedp.Run(ctx, chromedp.Text(`#error-text`))
	if want := "reading status: controller stopped"; err != nil || text != want {
		t.Errorf("error banner: got %q (err %v), want %q", text, err, want)
	}
	screenshot(t, ctx, dir, "dashboard-error.png")
	src.set(next, nil)
	waitFor(t, ctx, "the banner to clear", `document.getElementById("error-banner").hidden && !document.body.classList.contains("stale")`)

	// Another window: the server draws the charts for it.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?window=24h"), chromedp.WaitVisible(`svg.chart[data-window="24h"]`)); err != nil {
		t.Fatalf("loading the 24h window: %v", err)
	}
	checkChartsMatchAPI(t, ctx, srv.URL, "24h")

	if msgs := console.snapshot(); len(msgs) > 0 {
		t.Errorf("console errors or warnings (a CSP violation shows here too):\n%q", msgs)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatalf("emulating a phone: %v", err)
	}
	screenshot(t, ctx, dir, "dashboard-mobile.png")
}
