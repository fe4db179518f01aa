package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/web"
)

// wantFields is what the page must show for st: every number by its
// data-field key, as strconv writes it.
func wantFields(st web.Status) map[string]string {
	want := map[string]string{}
	var queued, running, live int
	var cost float64
	for _, p := range st.Pools {
		k := p.Name + "/"
		for f, v := range map[string]int{
			"min": p.Min, "standby": p.Standby, "max": p.Max,
			"queued": p.QueuedJobs, "running": p.RunningJobs,
			"starting": p.Agents.Starting, "idle": p.Agents.Idle, "busy": p.Agents.Busy,
			"draining": p.Agents.Draining, "offline": p.Agents.Offline,
		} {
			want[k+f] = strconv.Itoa(v)
		}
		want[k+"name"] = p.Name
		want[k+"provider"] = p.Provider
		want[k+"last_error"] = p.LastError
		want[k+"cost_24h"], want[k+"cost_day"] = "—", "—"
		if p.Cost.PerAgentHour > 0 {
			want[k+"cost_24h"], want[k+"cost_day"] = fmt.Sprintf("%.2f", p.Cost.Last24h), fmt.Sprintf("%.2f", p.Cost.PerDay)
		}
		cost += p.Cost.Last24h
		queued += p.QueuedJobs
		running += p.RunningJobs
		live += p.Agents.Starting + p.Agents.Idle + p.Agents.Busy + p.Agents.Draining
	}
	want["/total_pools"] = strconv.Itoa(len(st.Pools))
	want["/total_queued"] = strconv.Itoa(queued)
	want["/total_running"] = strconv.Itoa(running)
	want["/total_agents"] = strconv.Itoa(live)
	want["/total_checks"] = strconv.Itoa(len(st.Checks))
	want["/total_cost_24h"] = "—"
	if st.Currency != "" {
		want["/total_cost_24h"] = fmt.Sprintf("%.2f", cost)
	}
	want["/currency"] = st.Currency
	for i, d := range st.Decisions {
		k := fmt.Sprintf("decision/%d/", i)
		want[k+"time"], want[k+"pool"], want[k+"action"], want[k+"target"], want[k+"reason"] = clockOf(d.Time), d.Pool, d.Action, d.Target, d.Reason
	}
	for i, a := range st.Agents {
		k := fmt.Sprintf("agent/%d/", i)
		for f, v := range map[string]string{
			"name": a.Name, "pool": a.Pool, "state": a.State, "instance_id": a.InstanceID, "reason": a.Reason,
			"launched": clockOf(a.Launched), "registered": clockOf(a.Registered), "gone": clockOf(a.Gone),
			"job": idOf(a.Job), "startup_seconds": durOf(a.StartupSeconds), "lifetime_seconds": durOf(a.LifetimeSeconds),
		} {
			want[k+f] = v
		}
	}
	for i, f := range st.Failures {
		k := fmt.Sprintf("failure/%d/", i)
		want[k+"time"], want[k+"pool"], want[k+"kind"], want[k+"target"], want[k+"message"] = clockOf(f.Time), f.Pool, f.Kind, f.Target, f.Message
	}
	for i, c := range st.Checks {
		k := fmt.Sprintf("check/%d/", i)
		want[k+"pool"], want[k+"plan_id"], want[k+"job_id"], want[k+"received"], want[k+"waiting_seconds"] = c.Pool, c.PlanID, c.JobID, clockOf(c.Received), durOf(c.WaitingSeconds)
	}
	return want
}

// The page's formats, as the tests state them.

func clockOf(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05")
}

func idOf(n int64) string {
	if n == 0 {
		return "—"
	}
	return strconv.FormatInt(n, 10)
}

func durOf(secs float64) string {
	n := int(math.Round(secs))
	switch {
	case n <= 0:
		return "—"
	case n < 60:
		return fmt.Sprintf("%ds", n)
	case n < 3600:
		return fmt.Sprintf("%dm%02ds", n/60, n%60)
	case n < 86400:
		return fmt.Sprintf("%dh%02dm", n/3600, n%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", n/86400, n%86400/3600)
}

func TestPageShowsEveryNumber(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, &fakeSource{st: sampleStatus()}, nil)
	// The page shows what the API says, lists in its order (newest first).
	_, api := do(t, "GET", srv.URL+"/api/status")
	var st web.Status
	if err := json.Unmarshal([]byte(api), &st); err != nil {
		t.Fatalf("decoding /api/status: %v", err)
	}
	res, body := do(t, "GET", srv.URL+"/")
	if res.StatusCode != 200 {
		t.Fatalf("GET /: got %d, want 200", res.StatusCode)
	}
	fields := dataFields(t, body)
	got := map[string]string{}
	for k := range wantFields(st) {
		got[k] = fields[k].Text
	}
	if diff := cmp.Diff(wantFields(st), got); diff != "" {
		t.Errorf("numbers on the page (-want +got):\n%s", diff)
	}

	tests := []struct{ key, text, datetime string }{
		{"/generated_at", "2025-03-14 09:26:53 UTC", "2025-03-14T09:26:53Z"},
		{"linux/last_reconcile", "09:26:51", "2025-03-14T09:26:51Z"},
		{"windows/last_reconcile", "never", ""},
		// Newest first: the drain (t0-10s), the terminate, the launch.
		{"decision/0/time", "09:26:43", "2025-03-14T09:26:43Z"},
		{"decision/2/time", "09:26:23", "2025-03-14T09:26:23Z"},
	}
	for _, tt := range tests {
		e := fields[tt.key]
		if e.Text != tt.text || e.Attrs["datetime"] != tt.datetime {
			t.Errorf("%s: got %q datetime=%q, want %q datetime=%q", tt.key, e.Text, e.Attrs["datetime"], tt.text, tt.datetime)
		}
	}
	decisions := []string{fields["decision/0/action"].Text, fields["decision/1/action"].Text, fields["decision/2/action"].Text}
	if want := []string{"drain", "terminate", "launch"}; !cmp.Equal(decisions, want) {
		t.Errorf("decision actions: got %q, want %q (newest first)", decisions, want)
	}
	if got, want := fields["decision/0/target"].Text, "agent-7"; got != want {
		t.Errorf("decision 0 target: got %q, want %q", got, want)
	}
}

// TestPageCapacityBar checks the bar's segments: busy, idle and starting as
// shares of max, clipped so that together they never pass the track.
func TestPageCapacityBar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		max                  int
		agents               web.AgentCounts
		busy, idle, starting string
	}{
		{"shares of max", 10, web.AgentCounts{Busy: 5, Idle: 2, Starting: 1}, "50.00", "20.00", "10.00"},
		{"over max is clipped", 10, web.AgentCounts{Busy: 5, Idle: 3, Starting: 4}, "50.00", "30.00", "20.00"},
		{"max zero draws nothing", 0, web.AgentCounts{Busy: 2}, "0.00", "0.00", "0.00"},
		{"thirds", 3, web.AgentCounts{Busy: 1, Idle: 1}, "33.33", "33.33", "0.00"},
	}
	rect := regexp.MustCompile(`data-seg="(\w+)" x="([\d.]+)" width="([\d.]+)"`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := web.Status{Pools: []web.PoolStatus{{Name: "p", Max: tt.max, Agents: tt.agents}}}
			srv := newTestServer(t, &fakeSource{st: st}, nil)
			_, body := do(t, "GET", srv.URL+"/")
			bar := dataFields(t, body)["p/bar"]
			if bar.Tag != "svg" {
				t.Fatalf("p/bar: got element %q, want svg", bar.Tag)
			}
			// Only the pool's own row, not the empty row of <template>.
			row, _, _ := strings.Cut(body, `id="pool-template"`)
			got := map[string]string{}
			for _, m := range rect.FindAllStringSubmatch(row, -1) {
				got[m[1]] = m[3]
			}
			want := map[string]string{"busy": tt.busy, "idle": tt.idle, "starting": tt.starting}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("segment widths (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStaticAssetCaching checks that the page links versioned asset URLs that
// may be cached for good, and that a revalidation gets 304.
func TestStaticAssetCaching(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, &fakeSource{}, nil)
	_, body := do(t, "GET", srv.URL+"/")
	m := regexp.MustCompile(`src="(static/app\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page links no versioned app.js")
	}
	res, _ := do(t, "GET", srv.URL+"/"+m[1])
	if got, want := res.Header.Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
		t.Errorf("versioned asset Cache-Control: got %q, want %q", got, want)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatalf("asset has no ETag")
	}
	req, _ := http.NewRequest("GET", srv.URL+"/static/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("conditional GET: %v", err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: got %d, want 304", res2.StatusCode)
	}
	if got, want := res2.Header.Get("Cache-Control"), "no-cache"; got != want {
		t.Errorf("unversioned asset Cache-Control: got %q, want %q", got, want)
	}
}
