package checks_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// blockingADO has one free agent and holds PostJobEvent until released, recording whether the
// call's context was cancelled meanwhile.
type blockingADO struct {
	entered     chan struct{}
	release     chan struct{}
	cancelledIn chan bool
}

func (b *blockingADO) FindPool(context.Context, string) (ado.Pool, error) {
	return ado.Pool{ID: 1, Name: testPool}, nil
}

func (b *blockingADO) ListAgents(context.Context, int) ([]ado.Agent, error) {
	return []ado.Agent{{ID: 7, Name: "agent-7", Enabled: true, Status: ado.AgentOnline}}, nil
}

func (b *blockingADO) PostJobEvent(ctx context.Context, _ ado.PlanRef, _ ado.JobEvent) error {
	close(b.entered)
	<-b.release
	b.cancelledIn <- ctx.Err() != nil
	return ctx.Err()
}

func (b *blockingADO) AppendLog(context.Context, ado.PlanRef, []string) error { return nil }

// TestRunFinishesItsRoundOnShutdown: cancelling Run while a callback is being posted must not
// cancel the post (its claim is already spent, so a cancelled post would never be re-sent); Run
// returns once the round is over and the request is recorded as sent.
func TestRunFinishesItsRoundOnShutdown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "adofleet.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reqs := checks.NewStoreRequests(st)
	req := checks.CheckRequest{Pool: testPool, ReceivedAt: time.Now(), Plan: ado.PlanRef{
		PlanURL: "http://127.0.0.1:1/org/", ProjectID: "p", HubName: "checks", PlanID: "plan-1",
		JobID: "job-1", TimelineID: "tl-1", TaskInstanceID: "task-1", AuthToken: "job-token",
	}}
	if _, err := reqs.Put(ctx, req); err != nil {
		t.Fatal(err)
	}
	fake := &blockingADO{entered: make(chan struct{}), release: make(chan struct{}), cancelledIn: make(chan bool, 1)}
	cb, err := checks.NewCallbacker(checks.CallbackerOptions{Requests: reqs, Claims: st, ADO: fake, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cb.Run(runCtx, time.Hour) }()
	<-fake.entered
	stop()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while its round was still posting a callback", err)
	default:
	}
	close(fake.release)
	if cancelled := <-fake.cancelledIn; cancelled {
		t.Error("the callback's context was cancelled by the shutdown")
	}
	if err := <-done; err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled once the round is over", err)
	}
	finished, err := reqs.Finished(ctx, testPool)
	if err != nil {
		t.Fatal(err)
	}
	if len(finished) != 1 || !finished[0].Outcome.Sent || finished[0].Outcome.Result != checks.ResultSucceeded {
		t.Errorf("finished = %+v, want one request sent as succeeded", finished)
	}
}

// TestPendingByPoolSkipsACheckBeingCompleted: while a check's callback is being posted its job is
// already on its way into the pool queue, so the check no longer counts as demand.
func TestPendingByPoolSkipsACheckBeingCompleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "adofleet.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reqs := checks.NewStoreRequests(st)
	for _, plan := range []string{"plan-1", "plan-2"} {
		if _, err := reqs.Put(ctx, checks.CheckRequest{Pool: testPool, ReceivedAt: time.Now(), Plan: ado.PlanRef{
			PlanURL: "http://127.0.0.1:1/org/", ProjectID: "p", HubName: "checks", PlanID: plan,
			JobID: "job", TimelineID: "tl", TaskInstanceID: "task", AuthToken: "job-token",
		}}); err != nil {
			t.Fatal(err)
		}
	}
	fake := &blockingADO{entered: make(chan struct{}), release: make(chan struct{}), cancelledIn: make(chan bool, 1)}
	cb, err := checks.NewCallbacker(checks.CallbackerOptions{Requests: reqs, Claims: st, ADO: fake, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	before, err := cb.PendingByPool(ctx)
	if err != nil || before[testPool] != 2 {
		t.Fatalf("before: %v, %v; want 2 for %s", before, err, testPool)
	}
	round := make(chan error, 1)
	go func() { round <- cb.RunOnce(ctx) }() // the one free agent releases the oldest check
	<-fake.entered
	during, err := cb.PendingByPool(ctx)
	if err != nil || during[testPool] != 1 {
		t.Errorf("while posting: %v, %v; want 1 (the check being completed no longer counts)", during, err)
	}
	all, err := checks.PendingByPool(ctx, reqs)
	if err != nil || all[testPool] != 2 {
		t.Errorf("the store alone: %v, %v; want still 2 pending until the done mark", all, err)
	}
	close(fake.release)
	<-fake.cancelledIn
	if err := <-round; err != nil {
		t.Fatal(err)
	}
	after, err := cb.PendingByPool(ctx)
	if err != nil || after[testPool] != 1 {
		t.Errorf("after: %v, %v; want 1", after, err)
	}
}
