package fake_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFake() *fake.Provider {
	f := fake.New()
	f.Now = func() time.Time { return epoch }
	return f
}

func request(token, pool string, names ...string) provider.LaunchRequest {
	req := provider.LaunchRequest{Token: token, Pool: pool, Tags: provider.TagsFor(pool, "ctl", "", token)}
	for _, n := range names {
		req.Agents = append(req.Agents, provider.AgentSpec{Name: n})
	}
	return req
}

func TestLaunchIsIdempotentPerToken(t *testing.T) {
	t.Parallel()
	f := newFake()
	var mu sync.Mutex
	var hooked []string
	f.OnLaunch = func(inst provider.Instance, req provider.LaunchRequest) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, inst.AgentName+"/"+req.Token)
	}
	ctx := context.Background()
	first, err := f.Launch(ctx, request("tok", "pool", "a", "b"))
	if err != nil {
		t.Fatalf("first Launch: %v", err)
	}
	second, err := f.Launch(ctx, request("tok", "pool", "a", "b"))
	if err != nil {
		t.Fatalf("second Launch: %v", err)
	}
	want := []provider.Instance{
		{ID: "fake-1", Pool: "pool", AgentName: "a", State: provider.StateRunning, LaunchedAt: epoch,
			Tags: provider.TagsFor("pool", "ctl", "a", "tok")},
		{ID: "fake-2", Pool: "pool", AgentName: "b", State: provider.StateRunning, LaunchedAt: epoch,
			Tags: provider.TagsFor("pool", "ctl", "b", "tok")},
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first Launch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("replayed Launch (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a/tok", "b/tok"}, hooked); diff != "" {
		t.Errorf("OnLaunch calls (-want +got):\n%s", diff)
	}
	if got, want := len(f.LaunchRequests()), 2; got != want {
		t.Errorf("recorded Launch calls = %d, want %d", got, want)
	}
	if got, want := f.Running("pool"), 2; got != want {
		t.Errorf("Running(pool) = %d, want %d", got, want)
	}
}

func TestFailLaunchNextN(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.FailLaunch(2, provider.ErrInsufficientCapacity)
	ctx := context.Background()
	for i := range 2 {
		insts, err := f.Launch(ctx, request("tok", "pool", "a"))
		if !errors.Is(err, provider.ErrInsufficientCapacity) || len(insts) != 0 {
			t.Errorf("Launch %d = %v, %v; want no instances and ErrInsufficientCapacity", i, insts, err)
		}
	}
	// The failed calls did not consume the token: the retry launches.
	insts, err := f.Launch(ctx, request("tok", "pool", "a"))
	if err != nil || len(insts) != 1 {
		t.Errorf("Launch after the failures = %v, %v; want one instance", insts, err)
	}
	var errs []error
	for _, c := range f.Calls() {
		errs = append(errs, c.Err)
	}
	if diff := cmp.Diff([]error{provider.ErrInsufficientCapacity, provider.ErrInsufficientCapacity, nil}, errs,
		cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) })); diff != "" {
		t.Errorf("recorded errors (-want +got):\n%s", diff)
	}
}

func TestFailAgentIsPartial(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.FailAgent("b", provider.ErrInsufficientCapacity)
	ctx := context.Background()
	insts, err := f.Launch(ctx, request("tok", "pool", "a", "b", "c"))
	var partial *provider.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("Launch error = %v, want a *provider.PartialError", err)
	}
	if _, ok := partial.Failed["b"]; !ok || len(partial.Failed) != 1 {
		t.Errorf("failed agents = %v, want only b", partial.Failed)
	}
	if !errors.Is(err, provider.ErrInsufficientCapacity) {
		t.Errorf("errors.Is(%v, ErrInsufficientCapacity) = false, want true", err)
	}
	var names []string
	for _, in := range insts {
		names = append(names, in.AgentName)
	}
	if diff := cmp.Diff([]string{"a", "c"}, names); diff != "" {
		t.Errorf("started agents (-want +got):\n%s", diff)
	}

	// A running name cannot be launched again under another token.
	f.ClearFailures()
	insts, err = f.Launch(ctx, request("tok-2", "pool", "a", "b"))
	if !errors.As(err, &partial) || !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("Launch of a running name error = %v, want a partial ErrInvalidRequest", err)
	}
	if len(insts) != 1 || insts[0].AgentName != "b" {
		t.Errorf("started = %v, want only b", insts)
	}
}

func TestTerminateAndListFailures(t *testing.T) {
	t.Parallel()
	f := newFake()
	ctx := context.Background()
	insts, err := f.Launch(ctx, request("tok", "pool", "a"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	boom := errors.New("boom")
	f.FailTerminate(1, boom)
	f.FailList(1, boom)
	if err := f.Terminate(ctx, []string{insts[0].ID}); !errors.Is(err, boom) {
		t.Errorf("Terminate error = %v, want boom", err)
	}
	if _, err := f.List(ctx, "pool"); !errors.Is(err, boom) {
		t.Errorf("List error = %v, want boom", err)
	}
	if got, want := f.Running("pool"), 1; got != want {
		t.Errorf("Running after failed Terminate = %d, want %d", got, want)
	}
	if got := f.TerminatedIDs(); len(got) != 0 {
		t.Errorf("TerminatedIDs after a failed Terminate = %v, want none", got)
	}
}

func TestTerminate(t *testing.T) {
	t.Parallel()
	f := newFake()
	var stopped []string
	f.OnTerminate = func(inst provider.Instance) { stopped = append(stopped, inst.ID) }
	ctx := context.Background()
	insts, err := f.Launch(ctx, request("tok", "pool", "a", "b"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	ids := []string{insts[0].ID, "unknown"}
	for range 2 { // terminating twice calls the hook once
		if err := f.Terminate(ctx, ids); err != nil {
			t.Fatalf("Terminate: %v", err)
		}
	}
	if diff := cmp.Diff([]string{insts[0].ID}, stopped); diff != "" {
		t.Errorf("OnTerminate calls (-want +got):\n%s", diff)
	}
	listed, _ := f.List(ctx, "pool")
	got := map[string]provider.State{}
	for _, in := range listed {
		got[in.AgentName] = in.State
	}
	if diff := cmp.Diff(map[string]provider.State{"a": provider.StateTerminated, "b": provider.StateRunning}, got); diff != "" {
		t.Errorf("states after Terminate (-want +got):\n%s", diff)
	}
}

func TestMarkTerminatedAndLost(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.OnTerminate = func(inst provider.Instance) {
		t.Errorf("OnTerminate(%s) called for an instance that ended on its own", inst.ID)
	}
	ctx := context.Background()
	insts, err := f.Launch(ctx, request("tok", "pool", "a", "b"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if err := f.MarkTerminated(insts[0].ID, "exited: ok"); err != nil {
		t.Fatalf("MarkTerminated: %v", err)
	}
	if err := f.MarkLost(insts[1].ID); err != nil {
		t.Fatalf("MarkLost: %v", err)
	}
	listed, _ := f.List(ctx, "pool")
	want := insts[:1]
	want[0].State, want[0].Reason = provider.StateTerminated, "exited: ok"
	if diff := cmp.Diff(want, listed); diff != "" {
		t.Errorf("List after MarkTerminated and MarkLost (-want +got):\n%s", diff)
	}
	if err := f.MarkLost("fake-404"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("MarkLost(unknown) = %v, want ErrNotFound", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newFake()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("agent-%d", i)
			insts, err := f.Launch(ctx, request("tok-"+name, "pool", name))
			if err != nil {
				t.Errorf("Launch(%s): %v", name, err)
				return
			}
			if _, err := f.List(ctx, "pool"); err != nil {
				t.Errorf("List: %v", err)
			}
			if err := f.Terminate(ctx, []string{insts[0].ID}); err != nil {
				t.Errorf("Terminate: %v", err)
			}
		})
	}
	wg.Wait()
	if got, want := len(f.Instances()), 8; got != want {
		t.Errorf("instances = %d, want %d", got, want)
	}
	if got := f.Running("pool"); got != 0 {
		t.Errorf("Running = %d, want 0", got)
	}
}
