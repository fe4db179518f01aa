package housekeep_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/housekeep"
	"github.com/adofleet/adofleet/internal/promreg/promregtest"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// A pass on a real SQLite file deletes what is past its limits and keeps the rest.
func TestPassPrunesSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "adofleet.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for i := range 5 {
		for _, pool := range []string{"busy", "quiet"} {
			if pool == "quiet" && i > 0 {
				continue
			}
			d := store.Decision{Time: now.Add(time.Duration(i) * time.Minute), Pool: pool, Action: "launch", Reason: "test"}
			if err := st.AppendDecision(ctx, d); err != nil {
				t.Fatalf("AppendDecision: %v", err)
			}
		}
	}
	for name, done := range map[string]time.Time{"old": now.Add(-40 * 24 * time.Hour), "new": now.Add(-time.Hour)} {
		key := store.CallbackKey{PlanID: name, JobID: "job", TaskInstanceID: "task"}
		r := store.CheckRequest{Key: key, Pool: "busy", PlanURL: "https://dev.azure.com/org/", ProjectID: "p", HubName: "build", AuthToken: "t", ReceivedAt: done}
		if _, err := st.PutCheckRequest(ctx, r); err != nil {
			t.Fatalf("PutCheckRequest: %v", err)
		}
		if err := st.DoneCheckRequest(ctx, key, store.CheckOutcome{Result: "succeeded", At: done}); err != nil {
			t.Fatalf("DoneCheckRequest: %v", err)
		}
		if _, err := st.ClaimCallback(ctx, key, "succeeded", done); err != nil {
			t.Fatalf("ClaimCallback: %v", err)
		}
	}

	reg := prometheus.NewRegistry()
	h, err := housekeep.New(st, housekeep.Options{DecisionsPerPool: 2, Now: func() time.Time { return now }, Registerer: reg})
	if err != nil || h == nil {
		t.Fatalf("New: got %v, %v; want a housekeeper", h, err)
	}
	if err := h.Pass(ctx); err != nil {
		t.Fatalf("Pass: %v", err)
	}
	for pool, want := range map[string]int{"busy": 2, "quiet": 1} {
		ds, err := st.ListDecisions(ctx, pool, 100)
		if err != nil || len(ds) != want {
			t.Errorf("decisions of %s after a pass: got %d, %v; want %d", pool, len(ds), err, want)
		}
	}
	done, err := st.FinishedCheckRequests(ctx, "")
	if err != nil || len(done) != 1 || done[0].Request.Key.PlanID != "new" {
		t.Errorf("done checks after a pass: got %+v, %v; want only the new one", done, err)
	}
	for kind, want := range map[string]float64{"decisions": 3, "checks": 2, "vms": 0, "messages": 0} {
		if got := counter(t, reg, "adofleet_housekeeping_deleted_rows_total", kind); got != want {
			t.Errorf("deleted rows of %s: got %v, want %v", kind, got, want)
		}
	}
	if err := h.Pass(ctx); err != nil {
		t.Fatalf("second Pass: %v", err)
	}
	if got := counter(t, reg, "adofleet_housekeeping_deleted_rows_total", "decisions"); got != 3 {
		t.Errorf("a second pass deleted more decisions: counter %v, want 3", got)
	}
}

// counter reads the kind's series of a counter from the registry (0 if it has none).
func counter(t *testing.T, reg *prometheus.Registry, name, kind string) float64 {
	t.Helper()
	v, _ := promregtest.Value(t, reg, name, "kind", kind)
	return v
}

// fakePruner counts the passes and fails the ones failing says.
type fakePruner struct {
	mu      sync.Mutex
	passes  int
	failing bool
}

func (f *fakePruner) PruneDecisions(context.Context, int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.passes++
	if f.failing {
		return 0, errors.New("disk I/O error")
	}
	return 1, nil
}
func (f *fakePruner) PruneVMs(context.Context, time.Time) (int, error)      { return 0, nil }
func (f *fakePruner) PruneMessages(context.Context, time.Time) (int, error) { return 0, nil }
func (f *fakePruner) PruneChecks(context.Context, time.Time) (int, error)   { return 0, nil }

func (f *fakePruner) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.passes
}

// Run waits FirstDelay, then passes every Interval; a failed pass is counted and the next runs.
func TestRunSchedule(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakePruner{failing: true}
		reg := prometheus.NewRegistry()
		h, err := housekeep.New(f, housekeep.Options{Interval: time.Hour, FirstDelay: time.Minute, Registerer: reg})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()

		step := func(d time.Duration, want int) {
			t.Helper()
			time.Sleep(d)
			synctest.Wait()
			if got := f.count(); got != want {
				t.Fatalf("passes after %s more: got %d, want %d", d, got, want)
			}
		}
		step(59*time.Second, 0)
		step(time.Second, 1)
		if got := counter(t, reg, "adofleet_housekeeping_failures_total", "decisions"); got != 1 {
			t.Errorf("failures after a failed pass: got %v, want 1", got)
		}
		f.mu.Lock()
		f.failing = false
		f.mu.Unlock()
		step(59*time.Minute, 1)
		step(time.Minute, 2)
		step(time.Hour, 3)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	})
}

// A store without the Prune methods (DynamoDB, which has TTL) gets no housekeeper.
func TestNewWithoutPruner(t *testing.T) {
	t.Parallel()
	h, err := housekeep.New(struct{}{}, housekeep.Options{})
	if h != nil || err != nil {
		t.Errorf("New(not a pruner): got %v, %v; want nil, nil", h, err)
	}
	if _, err := housekeep.New(&fakePruner{}, housekeep.Options{Interval: -time.Second}); err == nil {
		t.Error("New with a negative interval: got nil error")
	}
}
