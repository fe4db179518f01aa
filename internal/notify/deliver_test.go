package notify_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/store"
)

// only returns the outbox's single message.
func only(t *testing.T, e *env) store.OutboxMessage {
	t.Helper()
	due := e.messages(t)
	if len(due) != 1 {
		t.Fatalf("outbox holds %d messages, want 1", len(due))
	}
	return due[0]
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t,
		answer{status: http.StatusTooManyRequests, retryAfter: "30", body: "rate_limited"},
		answer{status: http.StatusServiceUnavailable, body: "down"},
	)
	e := newEnv(t, secrets{"env:S_URL": rcv.hookURL()}, slackRoute("s"))
	e.publish(t, event("capacity"))

	e.deliver(t) // 429, Retry-After 30s
	m := only(t, e)
	if m.State != store.OutboxPending || m.Attempts != 1 || !strings.Contains(m.LastError, "HTTP 429: rate_limited") {
		t.Fatalf("after a 429: state %s, attempts %d, last error %q; want pending, 1, the 429", m.State, m.Attempts, m.LastError)
	}
	if got, want := m.NextAttempt, t0.Add(30*time.Second); !got.Equal(want) {
		t.Errorf("next attempt %s, want %s (Retry-After)", got, want)
	}
	e.clock.Advance(29 * time.Second)
	if got := e.deliver(t); got != 0 {
		t.Errorf("sent %d before Retry-After passed, want 0", got)
	}
	e.clock.Advance(time.Second)
	e.deliver(t) // 503: exponential backoff, attempt 2: 10s * 2 = 20s with jitter at its top
	m = only(t, e)
	if got, want := m.NextAttempt, e.clock.Now().Add(20*time.Second); !got.Equal(want) {
		t.Errorf("after a 503 at attempt 2: next attempt %s, want %s", got, want)
	}
	e.clock.Advance(20 * time.Second)
	e.deliver(t)
	m = only(t, e)
	if m.State != store.OutboxDelivered || m.Attempts != 3 || m.DeliveredAt.IsZero() || m.ExpiresAt.IsZero() {
		t.Errorf("after a 200: %+v; want delivered at attempt 3 with DeliveredAt and ExpiresAt", m)
	}
	if got := len(rcv.Requests()); got != 3 {
		t.Errorf("receiver got %d requests, want 3", got)
	}
	for _, want := range []string{
		`adofleet_notify_deliveries_total{outcome="retry",route="s"} 2`,
		`adofleet_notify_deliveries_total{outcome="delivered",route="s"} 1`,
	} {
		if got := promText(t, e); !strings.Contains(got, want) {
			t.Errorf("metrics lack %s:\n%s", want, got)
		}
	}
}

func TestDeadAfter4xxAndAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	t.Run("4xx", func(t *testing.T) {
		t.Parallel()
		rcv := newReceiver(t, answer{status: http.StatusNotFound, body: "no_service"})
		e := newEnv(t, secrets{"env:S_URL": rcv.hookURL()}, slackRoute("s"))
		e.publish(t, event("x"))
		e.deliver(t)
		m := only(t, e)
		if m.State != store.OutboxDead || m.LastError != "HTTP 404: no_service" {
			t.Errorf("state %s, last error %q; want dead with HTTP 404: no_service", m.State, m.LastError)
		}
		e.clock.Advance(time.Hour)
		e.deliver(t)
		if got := len(rcv.Requests()); got != 1 {
			t.Errorf("receiver got %d requests, want 1 (no retry after a 404)", got)
		}
		if got := promText(t, e); !strings.Contains(got, `adofleet_notify_failed_deliveries_total{route="s"} 1`) {
			t.Errorf("failed deliveries not counted:\n%s", got)
		}
	})
	t.Run("max attempts", func(t *testing.T) {
		t.Parallel()
		var answers []answer
		for range 3 {
			answers = append(answers, answer{status: http.StatusBadGateway})
		}
		rcv := newReceiver(t, answers...)
		r := slackRoute("s")
		r.MaxAttempts = 3
		e := newEnv(t, secrets{"env:S_URL": rcv.hookURL()}, r)
		e.publish(t, event("x"))
		for range 5 {
			e.deliver(t)
			e.clock.Advance(10 * time.Minute)
		}
		if m := only(t, e); m.State != store.OutboxDead || m.Attempts != 3 {
			t.Errorf("state %s after %d attempts; want dead after 3", m.State, m.Attempts)
		}
		if got := len(rcv.Requests()); got != 3 {
			t.Errorf("receiver got %d requests, want 3", got)
		}
	})
}

func TestDedupWithinWindowNotAfter(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	r := slackRoute("s")
	r.DedupWindow = 5 * time.Minute
	other := slackRoute("o")
	e := newEnv(t, secrets{"env:S_URL": rcv.hookURL(), "env:O_URL": rcv.hookURL()}, r, other)
	e.publish(t, event("capacity"))
	e.clock.Advance(4 * time.Minute)
	e.publish(t, event("capacity"))   // within s's window (and o's default 10m): dropped by both
	e.publish(t, event("other text")) // a different alert
	e.clock.Advance(time.Minute + time.Second)
	e.publish(t, event("capacity")) // past s's window: s takes it, o still drops it
	if got, want := e.counts(t)[store.OutboxPending], 5; got != want {
		t.Errorf("pending messages = %d, want %d (s: 3, o: 2)", got, want)
	}
	e.deliver(t)
	if got := len(rcv.Requests()); got != 5 {
		t.Errorf("receiver got %d requests, want 5", got)
	}
	if got := promText(t, e); !strings.Contains(got, `adofleet_notify_enqueued_total{result="deduplicated",route="o"} 2`) ||
		!strings.Contains(got, `adofleet_notify_enqueued_total{result="deduplicated",route="s"} 1`) {
		t.Errorf("dedup counts wrong:\n%s", got)
	}
	// An explicit DedupKey groups alerts whose text differs.
	e2 := newEnv(t, secrets{"env:S_URL": rcv.hookURL()}, slackRoute("s"))
	a, b := event("waited 11m"), event("waited 12m")
	a.DedupKey, b.DedupKey = "job-7", "job-7"
	e2.publish(t, a)
	e2.publish(t, b)
	if got := e2.counts(t)[store.OutboxPending]; got != 1 {
		t.Errorf("pending with one DedupKey = %d, want 1", got)
	}
}

func TestRateLimitPerRoute(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	r := slackRoute("s")
	r.RatePerMinute = 2
	e := newEnv(t, secrets{"env:S_URL": rcv.hookURL(), "env:F_URL": rcv.hookURL()}, r, slackRoute("f"))
	for i := range 5 {
		e.publish(t, event("alert "+string(rune('a'+i))))
	}
	e.deliver(t)
	// s: a burst of 2; f (20/min) takes all 5.
	if got, want := len(rcv.Requests()), 2+5; got != want {
		t.Fatalf("first round sent %d, want %d", got, want)
	}
	e.clock.Advance(29 * time.Second)
	e.deliver(t)
	if got := len(rcv.Requests()); got != 7 {
		t.Errorf("at 29s sent %d in all, want 7 (a token takes 30s)", got)
	}
	e.clock.Advance(time.Second)
	e.deliver(t)
	if got := len(rcv.Requests()); got != 8 {
		t.Errorf("at 30s sent %d in all, want 8", got)
	}
	e.clock.Advance(time.Minute)
	e.deliver(t)
	if got := len(rcv.Requests()); got != 10 {
		t.Errorf("at 90s sent %d in all, want 10", got)
	}
	if c := e.counts(t); c[store.OutboxDelivered] != 10 || c[store.OutboxPending] != 0 {
		t.Errorf("outbox = %v, want 10 delivered", c)
	}
	if got := promText(t, e); !strings.Contains(got, `adofleet_notify_deliveries_total{outcome="rate_limited",route="s"}`) {
		t.Errorf("rate limiting not counted:\n%s", got)
	}
}

// TestSecretsNeverLeak fails deliveries every way that could quote the URL and checks the logs,
// the stored errors and the metrics.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, answer{status: http.StatusBadRequest, body: "bad " + hookToken})
	dead := newReceiver(t)
	dead.Close() // connection refused: *url.Error quotes the URL
	key := "signing-key-" + hookToken
	sec := secrets{"env:S_URL": rcv.hookURL(), "env:D_URL": dead.hookURL(), "env:W_URL": dead.hookURL(), "env:KEY": key}
	e := newEnv(t, sec, slackRoute("s"), slackRoute("d"),
		notify.Route{Name: "w", Kind: notify.KindWebhook, URL: "env:W_URL", SigningSecret: "env:KEY"},
		notify.Route{Name: "m", Kind: notify.KindTeams, URL: "env:MISSING"})
	e.publish(t, event("x"))
	e.deliver(t)
	var errs []string
	for _, m := range e.messages(t) {
		errs = append(errs, m.Route+": "+m.LastError)
	}
	all := e.logs.String() + strings.Join(errs, "\n") + promText(t, e)
	for _, leak := range []string{hookToken, "/services/T000"} {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked:\n%s", leak, all)
		}
	}
	for _, want := range []string{"s: HTTP 400: bad [redacted]", "d: POST: ", "m: webhook url: secret env:MISSING"} {
		if !strings.Contains(strings.Join(errs, "\n"), want) {
			t.Errorf("last errors lack %q: %v", want, errs)
		}
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	good := notify.Route{Name: "good", Kind: notify.KindWebhook, URL: "env:URL", SigningSecret: "env:KEY",
		Title: `{{.Pool | upper}}: {{field . "agent"}}`, Text: `{{.Summary}} ({{.Fields.reason | default "no reason"}})`}
	// Parses, but fails at send time: the default is used and the failure logged.
	bad := notify.Route{Name: "bad", Kind: notify.KindWebhook, URL: "env:URL", SigningSecret: "env:KEY",
		Title: `{{template "nope"}}`}
	e := newEnv(t, secrets{"env:URL": rcv.hookURL(), "env:KEY": "k"}, good, bad)
	e.publish(t, event("start failed"))
	e.deliver(t)
	got := map[string]string{}
	for _, r := range rcv.Requests() {
		p := decodeWebhook(t, r.Body)
		got[p.Title] = p.Text
	}
	want := map[string]string{
		"LINUX: linux-1":                 "start failed (capacity)",
		"Agent failed to start in linux": "start failed",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("title -> text (-want +got):\n%s", d)
	}
	if !strings.Contains(e.logs.String(), "message template failed; using the default") || !strings.Contains(e.logs.String(), "route=bad") {
		t.Errorf("template failure not logged: %s", e.logs.String())
	}
	if _, err := notify.New(notify.Options{Outbox: newOutbox(t), Secrets: secrets{},
		Routes: []notify.Route{{Name: "x", Kind: notify.KindSlack, URL: "env:U", Text: "{{.Summary"}}}); err == nil ||
		!strings.Contains(err.Error(), "text: invalid template") {
		t.Errorf("New with a broken template: %v, want an error naming text", err)
	}
}

func TestRouteMatches(t *testing.T) {
	t.Parallel()
	ev := notify.Event{Type: notify.VMResourceDeregisterFailed, Severity: notify.SeverityWarning, Pool: "linux"}
	tests := []struct {
		name  string
		route notify.Route
		want  bool
	}{
		{"everything", notify.Route{}, true},
		{"exact type", notify.Route{Events: []string{"vmresource.deregister_failed"}}, true},
		{"glob", notify.Route{Events: []string{"vmresource.*"}}, true},
		{"other type", notify.Route{Events: []string{"run.completed"}}, false},
		{"pool listed", notify.Route{Pools: []string{"win", "linux"}}, true},
		{"pool not listed", notify.Route{Pools: []string{"win"}}, false},
		{"severity at min", notify.Route{MinSeverity: notify.SeverityWarning}, true},
		{"severity below min", notify.Route{MinSeverity: notify.SeverityError}, false},
	}
	for _, tt := range tests {
		if got := tt.route.Matches(ev); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
	for p, ok := range map[string]bool{"*": true, "vmresource.*": true, "run.completed": true, "nope.*": false, "[": false} {
		if err := notify.CheckEventPattern(p); (err == nil) != ok {
			t.Errorf("CheckEventPattern(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}

// TestRunDeliversOnPublish runs the loop for real: Publish wakes it at once.
func TestRunDeliversOnPublish(t *testing.T) {
	t.Parallel()
	got := make(chan struct{}, 1)
	rcv := newReceiver(t)
	rcv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { got <- struct{}{} })
	n, err := notify.New(notify.Options{
		Routes: []notify.Route{slackRoute("s")}, Outbox: newOutbox(t),
		Secrets: secrets{"env:S_URL": rcv.hookURL()}, PollInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	if err := n.Publish(ctx, event("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("nothing delivered")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}
