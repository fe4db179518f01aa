package controller_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/adofleet/adofleet/internal/promreg/promregtest"
	"github.com/adofleet/adofleet/internal/store"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
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

// TestMetricsAndLogs runs a pool up and down with metrics on a registry and the debug log
// captured: the metrics carry the pool's numbers, every decision has its readable log line, and
// the agent token appears in neither.
func TestMetricsAndLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), true)
	reg := prometheus.NewRegistry()
	var logs syncBuffer
	opts := h.options(nil)
	opts.Registerer = reg
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := h.newController(opts)
	if err := c.EnsurePlaceholders(h.ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	h.queue(2, 10*time.Millisecond)
	h.reconcile(c)
	if got := gauge(t, reg, "adofleet_pool_jobs", map[string]string{"pool": testPool, "state": "queued"}); got != 2 {
		t.Errorf("adofleet_pool_jobs{state=queued} = %v, want 2", got)
	}
	if got := gauge(t, reg, "adofleet_ado_calls_per_reconcile", map[string]string{"pool": testPool}); got != 2 {
		t.Errorf("adofleet_ado_calls_per_reconcile = %v, want 2 (pool id cached)", got)
	}
	h.until(c, 300, func() bool { return len(h.org.Agents(testPool)) == 1 && h.prov.Running(testPool) == 0 })

	if got := counter(t, reg, "adofleet_decisions_total", map[string]string{"pool": testPool, "action": "launch"}); got < 1 {
		t.Errorf("adofleet_decisions_total{action=launch} = %v, want >= 1", got)
	}
	if got := counter(t, reg, "adofleet_reconcile_total", map[string]string{"pool": testPool, "outcome": "ok"}); got < 2 {
		t.Errorf("adofleet_reconcile_total{outcome=ok} = %v, want >= 2", got)
	}
	if !strings.Contains(logs.String(), "launch 2 agents: ") {
		t.Errorf("no readable launch line in the log:\n%s", logs.String())
	}
	for _, d := range h.decisions() {
		if !strings.Contains(logs.String(), d.Action+" "+d.Target+": ") {
			t.Errorf("decision %s %s has no log line", d.Action, d.Target)
		}
	}
	if strings.Contains(logs.String(), testPAT) {
		t.Error("the agent token appears in the log")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if strings.Contains(mf.String(), testPAT) {
			t.Errorf("metric %s carries the agent token", mf.GetName())
		}
	}

	// Gone records are kept for history, then pruned.
	h.clock.Advance(2 * time.Hour)
	h.reconcile(c)
	if recs := h.records(); len(recs) != 0 {
		t.Errorf("%d gone records left after the retention, want 0", len(recs))
	}
}

func find(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	m := promregtest.Find(t, reg, name, promregtest.Pairs(labels)...)
	if m == nil {
		t.Fatalf("metric %s%v not found", name, labels)
	}
	return m
}

func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	return find(t, reg, name, labels).GetGauge().GetValue()
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	return find(t, reg, name, labels).GetCounter().GetValue()
}

// conflictStore makes the first UpdateAgent lose a real race: another writer updates the same
// record just before it, so the controller's write conflicts and must re-read and retry.
type conflictStore struct {
	store.Store
	once sync.Once
}

func (s *conflictStore) UpdateAgent(ctx context.Context, r store.AgentRecord) (store.AgentRecord, error) {
	s.once.Do(func() {
		other, err := s.Store.GetAgent(ctx, r.Name)
		if err == nil {
			other.Reason = "touched by another writer"
			_, _ = s.Store.UpdateAgent(ctx, other)
		}
	})
	return s.Store.UpdateAgent(ctx, r)
}

// TestStoreConflictRetried: a record changed concurrently is re-read and the step retried once.
func TestStoreConflictRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	opts := h.options(nil)
	opts.Store = &conflictStore{Store: h.store}
	c := h.newController(opts)
	if err := c.EnsurePlaceholders(h.ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	h.queue(1, time.Second)
	res, err := c.ReconcileOnce(h.ctx, testPool)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if res.Launched != 1 {
		t.Fatalf("launched %d, want 1", res.Launched)
	}
	r := h.records()["linux-001"]
	if r.State != store.StateLaunched || r.InstanceID == "" || r.Version != 3 {
		t.Errorf("record = %+v, want launched with its instance at version 3 (create, other writer, retry)", r)
	}
}
