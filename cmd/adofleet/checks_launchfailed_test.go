package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// eventsADO records the plan events posted; it has no agents.
type eventsADO struct {
	mu     sync.Mutex
	events map[string]string // plan id -> result
}

func (e *eventsADO) FindPool(_ context.Context, name string) (ado.Pool, error) {
	return ado.Pool{ID: 1, Name: name}, nil
}
func (e *eventsADO) ListAgents(context.Context, int) ([]ado.Agent, error) { return nil, nil }
func (e *eventsADO) AppendLog(context.Context, ado.PlanRef, []string) error {
	return nil
}
func (e *eventsADO) PostJobEvent(_ context.Context, plan ado.PlanRef, ev ado.JobEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events[plan.PlanID] = ev.Result
	return nil
}

// TestLaunchFailureFailsWaitingChecks: an invalid-request launch failure fails the pool's waiting
// checks at once (other pools' stay), and a capacity failure leaves them waiting for a retry.
func TestLaunchFailureFailsWaitingChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "adofleet.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reqs := checks.NewStoreRequests(st)
	fake := &eventsADO{events: map[string]string{}}
	cb, err := checks.NewCallbacker(checks.CallbackerOptions{Requests: reqs, Claims: st, ADO: fake, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	w := &checksWiring{reqs: reqs, cb: cb, log: slog.New(slog.DiscardHandler)}
	defer w.close()
	for i, pool := range []string{"linux", "linux", "windows"} {
		plan := fmt.Sprintf("plan-%d", i)
		if _, err := reqs.Put(ctx, checks.CheckRequest{Pool: pool, ReceivedAt: time.Now(), Plan: ado.PlanRef{
			PlanURL: "http://127.0.0.1:1/org/", ProjectID: "p", HubName: "checks", PlanID: plan,
			JobID: "job", TimelineID: "tl", TaskInstanceID: "task", AuthToken: "tok",
		}}); err != nil {
			t.Fatal(err)
		}
	}

	w.launchFailed("linux", fmt.Errorf("no room: %w", provider.ErrInsufficientCapacity))
	w.fails.Wait()
	if len(fake.events) != 0 {
		t.Fatalf("a capacity failure posted %v, want nothing (the controller retries)", fake.events)
	}
	w.launchFailed("linux", fmt.Errorf("task definition not found: %w", provider.ErrInvalidRequest))
	w.fails.Wait()
	want := map[string]string{"plan-0": checks.ResultFailed, "plan-1": checks.ResultFailed}
	if fmt.Sprint(fake.events) != fmt.Sprint(want) {
		t.Errorf("events = %v, want %v", fake.events, want)
	}
	pending, err := reqs.Pending(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Pool != "windows" {
		t.Errorf("pending = %+v, want only the windows check", pending)
	}
}

// TestServeChecksNeedWebListen: serve refuses checks with web.listen off (the config allows it,
// for the Lambda checks function, which needs no listener).
func TestServeChecksNeedWebListen(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Web: config.Web{Listen: config.ListenOff}, Checks: config.Checks{Enabled: true}}
	w := &checksWiring{log: slog.New(slog.DiscardHandler)}
	if _, err := w.start(context.Background(), cfg, nil, nil, w.log); err == nil || !strings.Contains(err.Error(), "web.listen") {
		t.Errorf("start with web.listen off: got %v, want an error naming web.listen", err)
	}
}
