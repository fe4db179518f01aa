package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/history"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/testclock"
	"github.com/adofleet/adofleet/internal/web"
	"github.com/adofleet/adofleet/internal/web/fleet"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// fakeController answers Status with what the test set.
type fakeController struct {
	mu  sync.Mutex
	st  controller.Status
	err error
}

func (f *fakeController) Status(context.Context) (controller.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.err
}

func (f *fakeController) set(st controller.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = st
}

func poolStatus(name string, a controller.AgentCounts, lastErr string) controller.PoolStatus {
	return controller.PoolStatus{Name: name, Provider: "local", Max: 10, QueuedJobs: 2, RunningJobs: a.Busy,
		Agents: a, LastReconcile: t0, LastError: lastErr}
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "adofleet.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	for _, r := range []store.AgentRecord{
		{Name: "a-1", Pool: "linux", State: store.StateGone, InstanceID: "i-1", Reason: "agent and instance both gone",
			CreatedAt: t0.Add(-50 * time.Minute), RegisteredAt: t0.Add(-49 * time.Minute), UpdatedAt: t0.Add(-30 * time.Minute), JobRequestID: 77},
		{Name: "a-2", Pool: "linux", State: store.StateRegistered, InstanceID: "i-2", Reason: "agent registered",
			CreatedAt: t0.Add(-10 * time.Minute), RegisteredAt: t0.Add(-9*time.Minute - 30*time.Second), UpdatedAt: t0.Add(-9 * time.Minute)},
		{Name: "a-3", Pool: "linux", State: store.StateLaunching, Reason: "2 queued jobs",
			CreatedAt: t0.Add(-20 * time.Second), UpdatedAt: t0.Add(-20 * time.Second)},
	} {
		if err := st.CreateAgent(ctx, r); err != nil {
			t.Fatalf("CreateAgent %s: %v", r.Name, err)
		}
	}
	for _, d := range []store.Decision{
		{Time: t0.Add(-5 * time.Minute), Pool: "linux", Action: "launch", Target: "2 agents", Reason: "2 queued jobs"},
		{Time: t0.Add(-4 * time.Minute), Pool: "linux", Action: controller.ActionLaunchFailed, Target: "a-9", Reason: "insufficient capacity"},
		{Time: t0.Add(-3 * time.Minute), Pool: "linux", Action: controller.ActionStartFailed, Target: "a-8", Reason: "agent and instance both gone: CannotPullContainerError"},
	} {
		if err := st.AppendDecision(ctx, d); err != nil {
			t.Fatalf("AppendDecision: %v", err)
		}
	}
	const token = "job-token-never-shown"
	if _, err := st.PutCheckRequest(ctx, store.CheckRequest{
		Key: store.CallbackKey{PlanID: "plan-1", JobID: "job-1", TaskInstanceID: "task-1"}, Pool: "linux",
		PlanURL: "https://dev.azure.com/contoso", ProjectID: "p", HubName: "build", AuthToken: token, ReceivedAt: t0.Add(-90 * time.Second),
	}); err != nil {
		t.Fatalf("PutCheckRequest: %v", err)
	}

	ctrl := &fakeController{}
	clk := testclock.NewManual(t0.Add(-10 * time.Minute))
	src, err := fleet.New(fleet.Options{Controller: ctrl, Store: st, Prices: map[string]float64{"linux": 0.5}, Now: clk.Now})
	if err != nil {
		t.Fatalf("fleet.New: %v", err)
	}
	// Ten minutes of samples: 4 live agents (busy 3, starting 1), then 2 busy at the last one.
	for i := 0; i <= 10; i++ {
		clk.Set(t0.Add(time.Duration(i-10) * time.Minute))
		a := controller.AgentCounts{Busy: 3, Starting: 1, Offline: 1}
		if i == 10 {
			a = controller.AgentCounts{Busy: 2, Offline: 1}
		}
		ctrl.set(controller.Status{GeneratedAt: clk.Now(), Pools: []controller.PoolStatus{poolStatus("linux", a, "")}})
		if err := src.Sample(ctx); err != nil {
			t.Fatalf("Sample: %v", err)
		}
	}
	ctrl.set(controller.Status{GeneratedAt: t0,
		Pools:     []controller.PoolStatus{poolStatus("linux", controller.AgentCounts{Busy: 2, Offline: 1}, "list instances: throttled")},
		Decisions: []store.Decision{{Time: t0, Pool: "linux", Action: "drain", Target: "a-2", Reason: "idle"}},
	})

	got, err := src.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	want := web.Status{
		GeneratedAt: t0, SampledAt: t0, Currency: "USD",
		Pools: []web.PoolStatus{{
			Name: "linux", Provider: "local", Max: 10, QueuedJobs: 2, RunningJobs: 2,
			Agents: web.AgentCounts{Busy: 2, Offline: 1}, LastReconcile: t0, LastError: "list instances: throttled",
			// 10 minutes at 4 live agents = 40 agent-minutes.
			Cost: web.Cost{PerAgentHour: 0.5, AgentHours24h: 40.0 / 60, Last24h: 40.0 / 60 * 0.5, PerDay: 2 * 0.5 * 24},
		}},
		Decisions: []web.Decision{{Time: t0, Pool: "linux", Action: "drain", Target: "a-2", Reason: "idle"}},
		Agents: []web.Agent{
			{Name: "a-3", Pool: "linux", State: "launching", Launched: t0.Add(-20 * time.Second), LifetimeSeconds: 20, Reason: "2 queued jobs"},
			{Name: "a-2", Pool: "linux", State: "registered", InstanceID: "i-2", Launched: t0.Add(-10 * time.Minute),
				Registered: t0.Add(-9*time.Minute - 30*time.Second), StartupSeconds: 30, LifetimeSeconds: 600, Reason: "agent registered"},
			{Name: "a-1", Pool: "linux", State: "gone", InstanceID: "i-1", Job: 77, Launched: t0.Add(-50 * time.Minute),
				Registered: t0.Add(-49 * time.Minute), Gone: t0.Add(-30 * time.Minute), StartupSeconds: 60, LifetimeSeconds: 1200,
				Reason: "agent and instance both gone"},
		},
		Failures: []web.Failure{
			{Time: t0, Pool: "linux", Kind: fleet.KindCycleError, Message: "list instances: throttled"},
			{Time: t0.Add(-3 * time.Minute), Pool: "linux", Kind: "start-failed", Target: "a-8", Message: "agent and instance both gone: CannotPullContainerError"},
			{Time: t0.Add(-4 * time.Minute), Pool: "linux", Kind: "launch-failed", Target: "a-9", Message: "insufficient capacity"},
		},
		Checks: []web.Check{{Pool: "linux", PlanID: "plan-1", JobID: "job-1", Received: t0.Add(-90 * time.Second), WaitingSeconds: 90}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}
	body, _ := json.Marshal(got)
	if strings.Contains(string(body), token) {
		t.Errorf("the status carries a check's job token: %s", body)
	}

	// The same error seen again is not a new failure; a new one is.
	if _, err := src.Status(ctx); err != nil {
		t.Fatalf("Status: %v", err)
	}
	ctrl.set(controller.Status{GeneratedAt: t0, Pools: []controller.PoolStatus{poolStatus("linux", controller.AgentCounts{}, "ado: 503")}})
	got, err = src.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	var kinds []string
	for _, f := range got.Failures {
		if f.Kind == fleet.KindCycleError {
			kinds = append(kinds, f.Message)
		}
	}
	if diff := cmp.Diff([]string{"list instances: throttled", "ado: 503"}, kinds); diff != "" {
		t.Errorf("cycle errors (-want +got):\n%s", diff)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ctrl := &fakeController{}
	clk := testclock.NewManual(time.Time{})
	rec := history.New(history.Options{})
	src, err := fleet.New(fleet.Options{Controller: ctrl, Store: openStore(t), History: rec, Now: clk.Now})
	if err != nil {
		t.Fatalf("fleet.New: %v", err)
	}
	// Two hours of one sample a minute, busy = minute % 5.
	for i := range 120 {
		clk.Set(t0.Add(time.Duration(i) * time.Minute))
		ctrl.set(controller.Status{Pools: []controller.PoolStatus{
			poolStatus("linux", controller.AgentCounts{Busy: i % 5}, ""),
			poolStatus("win", controller.AgentCounts{Idle: 1}, ""),
		}})
		if err := src.Sample(ctx); err != nil {
			t.Fatalf("Sample: %v", err)
		}
	}
	tests := []struct {
		window     time.Duration
		wantPoints int
		wantStep   float64
	}{
		{time.Hour, 61, 60},          // the minute of Start and each after it, up to now
		{6 * time.Hour, 60, 120},     // all 2 h of samples, two minutes a point (6h/240 = 90 s, rounded up)
		{24 * time.Hour, 20, 6 * 60}, // 2 h at six minutes a point
	}
	for _, tt := range tests {
		h, err := src.History(ctx, tt.window)
		if err != nil {
			t.Fatalf("History(%s): %v", tt.window, err)
		}
		if len(h.Pools) != 2 || h.Pools[0].Pool != "linux" || h.Pools[0].Max != 10 {
			t.Fatalf("History(%s) pools: got %+v, want linux then win, max 10", tt.window, h.Pools)
		}
		if got := len(h.Pools[0].Points); got != tt.wantPoints {
			t.Errorf("History(%s): got %d points, want %d", tt.window, got, tt.wantPoints)
		}
		if h.StepSeconds != tt.wantStep {
			t.Errorf("History(%s): step %v s, want %v", tt.window, h.StepSeconds, tt.wantStep)
		}
		if !h.End.Equal(clk.Now()) || !h.Start.Equal(clk.Now().Add(-tt.window)) {
			t.Errorf("History(%s): span %v..%v, want the window before now", tt.window, h.Start, h.End)
		}
	}
	if _, err := src.History(ctx, 0); err == nil {
		t.Errorf("History(0): got nil error, want one")
	}
}

// TestRunSamples runs the sampler under synctest's virtual clock.
func TestRunSamples(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctrl := &fakeController{st: controller.Status{Pools: []controller.PoolStatus{poolStatus("linux", controller.AgentCounts{Busy: 1}, "")}}}
		rec := history.New(history.Options{})
		src, err := fleet.New(fleet.Options{Controller: ctrl, Store: fakeStore{}, History: rec, SampleEvery: 10 * time.Second})
		if err != nil {
			t.Fatalf("fleet.New: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- src.Run(ctx) }()
		start := time.Now()
		time.Sleep(95 * time.Second)
		synctest.Wait()
		if got, want := rec.LastSample(), start.Add(90*time.Second); !got.Equal(want) {
			t.Errorf("LastSample: got %v, want %v (a sample every 10 s)", got, want)
		}
		// One busy agent over 90 s.
		if got := rec.AgentSeconds("linux", start, time.Now()); got != 90 {
			t.Errorf("agent-seconds: got %v, want 90", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts fleet.Options
		want string
	}{
		{"no controller", fleet.Options{Store: fakeStore{}}, "Options.Controller is nil"},
		{"no store", fleet.Options{Controller: &fakeController{}}, "Options.Store is nil"},
		{"negative price", fleet.Options{Controller: &fakeController{}, Store: fakeStore{}, Prices: map[string]float64{"p": -1}}, `Prices["p"]: must not be negative`},
	}
	for _, tt := range tests {
		if _, err := fleet.New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	ctrl := &fakeController{st: controller.Status{Pools: []controller.PoolStatus{poolStatus("linux", controller.AgentCounts{}, "")}}}
	src, err := fleet.New(fleet.Options{Controller: ctrl, Store: fakeStore{err: errors.New("database is locked")}})
	if err != nil {
		t.Fatalf("fleet.New: %v", err)
	}
	if _, err := src.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "list agents: database is locked") {
		t.Errorf("Status with a failing store: got %v, want the store's error with its call", err)
	}
	ctrl.err = errors.New("controller stopped")
	if _, err := src.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "controller stopped") {
		t.Errorf("Status with a failing controller: got %v, want its error", err)
	}
}

// fakeStore is an empty store, or one whose every call fails with err.
type fakeStore struct{ err error }

func (f fakeStore) ListAgents(context.Context, string, ...store.AgentState) ([]store.AgentRecord, error) {
	return nil, f.err
}

func (f fakeStore) ListDecisions(context.Context, string, int) ([]store.Decision, error) {
	return nil, f.err
}

func (f fakeStore) PendingCheckRequests(context.Context, string) ([]store.CheckRequest, error) {
	return nil, f.err
}
