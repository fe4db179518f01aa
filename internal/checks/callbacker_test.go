package checks_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
)

func (e *env) check(t *testing.T) adosim.PlanSpec {
	t.Helper()
	p := e.org.AddPlan(adosim.PlanSpec{})
	if r := post(t, e.url, e.headers(p), "", nil); r.code != http.StatusOK {
		t.Fatalf("check call: got %d, want 200", r.code)
	}
	return p
}

func runOnce(t *testing.T, cb *checks.Callbacker) {
	t.Helper()
	if err := cb.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}

func hasLine(lines []string, sub string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, sub) })
}

func TestCallbackSucceedsOnceWhenAnAgentIsOnline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.check(t)
	cb := e.callbacker(t, time.Hour)

	runOnce(t, cb)
	if got := e.events(t, p.PlanID); len(got) != 0 {
		t.Fatalf("events with no agent online: got %v, want none", got)
	}
	if lines := e.logLines(t, p.PlanID); !hasLine(lines, "adofleet: starting an agent for pool linux") {
		t.Errorf("log lines: got %q, want the starting line", lines)
	}

	e.startAgents(t, "jit", 1)
	runOnce(t, cb)
	runOnce(t, cb)
	if diff := cmp.Diff([]string{"TaskCompleted/succeeded"}, e.events(t, p.PlanID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	info, _ := e.org.Plan(p.PlanID)
	if ev := info.Events[0]; ev.TaskID != p.TaskInstanceID || ev.JobID != p.JobID {
		t.Errorf("event ids: got task %s job %s, want %s %s", ev.TaskID, ev.JobID, p.TaskInstanceID, p.JobID)
	}
	lines := e.logLines(t, p.PlanID)
	if !hasLine(lines, "agent jit-0 is online in pool linux") {
		t.Errorf("log lines: got %q, want the online line", lines)
	}
	if n := strings.Count(strings.Join(lines, "\n"), "starting an agent"); n != 1 {
		t.Errorf("starting lines: got %d, want 1", n)
	}

	// A restart: new connections to the same file and a new callbacker.
	e.openStores(t, context.Background())
	runOnce(t, e.callbacker(t, time.Hour))
	if got := e.events(t, p.PlanID); len(got) != 1 {
		t.Errorf("events after a restart: got %v, want exactly one", got)
	}
	done, err := e.reqs.Finished(context.Background(), testPool)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || !done[0].Outcome.Sent || done[0].Outcome.Agent != "jit-0" || done[0].Outcome.Result != checks.ResultSucceeded {
		t.Errorf("finished: got %+v, want one sent success by jit-0", done)
	}
}

func TestCallbackFailsOnTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.check(t)
	cb := e.callbacker(t, 10*time.Minute)
	e.clock.Advance(9 * time.Minute)
	runOnce(t, cb)
	if got := e.events(t, p.PlanID); len(got) != 0 {
		t.Fatalf("events before the timeout: got %v, want none", got)
	}
	e.clock.Advance(time.Minute)
	runOnce(t, cb)
	runOnce(t, cb)
	if diff := cmp.Diff([]string{"TaskCompleted/failed"}, e.events(t, p.PlanID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if lines := e.logLines(t, p.PlanID); !hasLine(lines, "failing the check: no agent came online in pool linux within 10m0s") {
		t.Errorf("log lines: got %q, want the timeout reason", lines)
	}
	// An agent that comes too late releases nothing.
	e.startAgents(t, "late", 1)
	runOnce(t, cb)
	if got := e.events(t, p.PlanID); len(got) != 1 {
		t.Errorf("events after a late agent: got %v, want one", got)
	}
}

func TestCallbackFail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.check(t)
	cb := e.callbacker(t, time.Hour)
	key := checks.CheckRequest{Plan: e.planRef(p)}.Key()
	ok, err := cb.Fail(context.Background(), key, "the provider could not start an instance: quota")
	if err != nil || !ok {
		t.Fatalf("Fail: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := cb.Fail(context.Background(), key, "again"); err != nil || ok {
		t.Errorf("second Fail: got %v, %v; want false, nil", ok, err)
	}
	if diff := cmp.Diff([]string{"TaskCompleted/failed"}, e.events(t, p.PlanID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if lines := e.logLines(t, p.PlanID); !hasLine(lines, "quota") {
		t.Errorf("log lines: got %q, want the reason", lines)
	}
}

// A crash after the claim and before the post: the restarted callbacker must not send it.
func TestCallbackNeverSentTwiceAfterClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.check(t)
	key := checks.CheckRequest{Plan: e.planRef(p)}.Key()
	if ok, err := e.store.ClaimCallback(context.Background(), key, checks.ResultSucceeded, e.clock.Now()); err != nil || !ok {
		t.Fatalf("claim: got %v, %v", ok, err)
	}
	e.startAgents(t, "jit", 1)
	runOnce(t, e.callbacker(t, time.Hour))
	if got := e.events(t, p.PlanID); len(got) != 0 {
		t.Errorf("events: got %v, want none (claimed before the restart)", got)
	}
	if got := pendingCount(t, e); got != 0 {
		t.Errorf("pending: got %d, want 0", got)
	}
	done, err := e.reqs.Finished(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].Outcome.Sent || !strings.Contains(done[0].Outcome.Reason, "claimed before") {
		t.Errorf("finished: got %+v, want one unsent, claimed before", done)
	}
}

// One agent releases one check: the second waits for a second agent.
func TestOneAgentReleasesOneCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p1 := e.check(t)
	e.clock.Advance(time.Second)
	p2 := e.check(t)
	e.startAgents(t, "a", 1)
	cb := e.callbacker(t, time.Hour)
	runOnce(t, cb)
	runOnce(t, cb)
	if got1, got2 := e.events(t, p1.PlanID), e.events(t, p2.PlanID); len(got1) != 1 || len(got2) != 0 {
		t.Fatalf("events: got %v and %v, want the oldest check released only", got1, got2)
	}
	e.startAgents(t, "b", 1)
	runOnce(t, cb)
	if diff := cmp.Diff([]string{"TaskCompleted/succeeded"}, e.events(t, p2.PlanID)); diff != "" {
		t.Errorf("second check events (-want +got):\n%s", diff)
	}
}

func TestHundredConcurrentChecks(t *testing.T) {
	t.Parallel()
	const n = 100
	e := newEnv(t)
	plans := make([]adosim.PlanSpec, n)
	for i := range plans {
		plans[i] = e.org.AddPlan(adosim.PlanSpec{})
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() { codes[i] = post(t, e.url, e.headers(plans[i]), "", nil).code })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("call %d: got %d, want 200", i, c)
		}
	}
	by, err := checks.PendingByPool(context.Background(), e.reqs)
	if err != nil {
		t.Fatal(err)
	}
	if by[testPool] != n {
		t.Fatalf("pending: got %d, want %d", by[testPool], n)
	}
	cb := e.callbacker(t, time.Hour)
	runOnce(t, cb) // no agents yet: only the starting lines
	e.startAgents(t, "jit", n)
	runOnce(t, cb)
	runOnce(t, cb)
	agents := map[string]bool{}
	for _, p := range plans {
		if diff := cmp.Diff([]string{"TaskCompleted/succeeded"}, e.events(t, p.PlanID)); diff != "" {
			t.Fatalf("plan %s events (-want +got):\n%s", p.PlanID, diff)
		}
	}
	done, err := e.reqs.Finished(context.Background(), testPool)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range done {
		agents[f.Outcome.Agent] = true
	}
	if len(done) != n || len(agents) != n {
		t.Errorf("finished: got %d requests released by %d distinct agents, want %d and %d", len(done), len(agents), n, n)
	}
}
