package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/testclock"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// newClock is an injected clock that tests move by hand, standing at t0.
func newClock() *testclock.Manual { return testclock.NewManual(t0) }

// receiver is a webhook endpoint that records requests and answers from a script of answers
// (then 200 ok): a notifytest.Receiver.
type receiver struct{ *notifytest.Receiver }

// answer is one scripted answer of a receiver, by the names this package's tests use;
// newReceiver turns it into a notifytest.Answer.
type answer struct {
	status     int
	retryAfter string
	body       string
}

func newReceiver(t *testing.T, answers ...answer) *receiver {
	t.Helper()
	script := make([]notifytest.Answer, len(answers))
	for i, a := range answers {
		script[i] = notifytest.Answer{Status: a.status, RetryAfter: a.retryAfter, Body: a.body}
	}
	return &receiver{notifytest.NewReceiver(t, script...)}
}

// hookURL is the receiver's URL with a secret path, as Slack's and Teams' URLs have.
func (r *receiver) hookURL() string { return r.URL + "/services/T000/B000/" + hookToken }

// hookToken is the secret part of a webhook URL; no log, error or metric may contain it.
const hookToken = "XXsecretHookTokenXX"

// secrets is a Secrets resolving from a map, so tests need no environment.
type secrets map[string]string

func (s secrets) Resolve(_ context.Context, ref string) (secret.Value, error) {
	v, ok := s[ref]
	if !ok {
		return secret.Value{}, &secret.Error{Ref: ref, Err: io.EOF}
	}
	return secret.New(v), nil
}

// env is a notifier under test with everything it talks to.
type env struct {
	n     *notify.Notifier
	clock *testclock.Manual
	box   *recorder
	reg   *prometheus.Registry
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openStore opens a real SQLite file in dir.
func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// newOutbox is the outbox tests run on: a real SQLite file.
func newOutbox(t *testing.T) store.Outbox {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "adofleet.db"))
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// messages returns every message in the outbox, whatever its state.
func (e *env) messages(t *testing.T) []store.OutboxMessage {
	t.Helper()
	ids := map[string]bool{}
	var out []store.OutboxMessage
	for _, id := range e.box.enqueued() {
		if ids[id] {
			continue
		}
		ids[id] = true
		m, err := e.box.GetMessage(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// newEnv builds a notifier over a fresh SQLite store with an injected clock and no jitter.
func newEnv(t *testing.T, sec secrets, routes ...notify.Route) *env {
	t.Helper()
	return newEnvOn(t, newOutbox(t), newClock(), sec, routes...)
}

func newEnvOn(t *testing.T, box store.Outbox, c *testclock.Manual, sec secrets, routes ...notify.Route) *env {
	t.Helper()
	e := &env{clock: c, box: &recorder{Outbox: box}, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	n, err := notify.New(notify.Options{
		Routes: routes, Outbox: e.box, Secrets: sec, Registerer: e.reg,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    c.Now, Rand: func() float64 { return 1 }, // the upper bound of the jitter
		MinBackoff: 10 * time.Second, MaxBackoff: 5 * time.Minute,
	})
	if err != nil {
		t.Fatalf("notify.New: %v", err)
	}
	e.n = n
	return e
}

func (e *env) publish(t *testing.T, ev notify.Event) {
	t.Helper()
	if err := e.n.Publish(context.Background(), ev); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func (e *env) deliver(t *testing.T) int {
	t.Helper()
	n, err := e.n.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

// counts returns the outbox's messages per state.
func (e *env) counts(t *testing.T) map[store.OutboxState]int {
	t.Helper()
	c, err := e.box.CountMessages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// slackRoute is a Slack route to r.
func slackRoute(name string) notify.Route {
	return notify.Route{Name: name, Kind: notify.KindSlack, URL: "env:" + strings.ToUpper(name) + "_URL"}
}

// event is a typical event.
func event(summary string) notify.Event {
	return notify.Event{
		Type: notify.AgentStartFailed, Severity: notify.SeverityError, Pool: "linux", Summary: summary,
		Fields: map[string]string{"agent": "linux-1", "provider": "ecs", "reason": "capacity"},
	}
}

// promText is the registry in the text exposition format.
func promText(t *testing.T, e *env) string {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func decodeWebhook(t *testing.T, body []byte) notify.WebhookPayload {
	t.Helper()
	var p notify.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode webhook payload: %v", err)
	}
	return p
}

// recorder is an Outbox that remembers the IDs it stored, so tests can read every message back.
type recorder struct {
	store.Outbox
	mu  sync.Mutex
	ids []string
}

func (r *recorder) EnqueueMessage(ctx context.Context, m store.OutboxMessage, since time.Time) (bool, error) {
	ok, err := r.Outbox.EnqueueMessage(ctx, m, since)
	if ok {
		r.mu.Lock()
		r.ids = append(r.ids, m.ID)
		r.mu.Unlock()
	}
	return ok, err
}

func (r *recorder) enqueued() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}
