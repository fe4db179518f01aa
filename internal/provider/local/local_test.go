package local_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/local"
)

func TestNewRequiresCommand(t *testing.T) {
	t.Parallel()
	for _, cmd := range [][]string{nil, {""}} {
		if _, err := local.New(local.Options{Command: cmd}); err == nil {
			t.Errorf("New(Command: %q) = nil error, want an error", cmd)
		}
	}
}

func TestLaunchAndListByPool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	got, err := h.p.Launch(ctx, request("tok-a", "pool-a", "a-1", "a-2", "a-3"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if _, err := h.p.Launch(ctx, request("tok-b", "pool-b", "b-1")); err != nil {
		t.Fatalf("Launch pool-b: %v", err)
	}
	var want []provider.Instance
	for _, name := range []string{"a-1", "a-2", "a-3"} {
		want = append(want, provider.Instance{
			ID:        "local-" + name,
			Pool:      "pool-a",
			AgentName: name,
			State:     provider.StateRunning,
			Tags: map[string]string{
				provider.TagPool:       "pool-a",
				provider.TagController: "ctl",
				provider.TagAgent:      name,
				provider.TagToken:      "tok-a",
			},
			LaunchedAt: epoch,
		})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Launch instances (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, h.list(t, "pool-a")); diff != "" {
		t.Errorf("List(pool-a) (-want +got):\n%s", diff)
	}
	for _, in := range h.list(t, "pool-a") {
		if !provider.IsOurs(in, "pool-a", "ctl") {
			t.Errorf("IsOurs(%s) = false, want true", in.ID)
		}
	}
	if got, want := len(h.list(t, "pool-b")), 1; got != want {
		t.Errorf("len(List(pool-b)) = %d, want %d", got, want)
	}
	if got := h.list(t, "pool-c"); len(got) != 0 {
		t.Errorf("List(pool-c) = %v, want none", got)
	}
}

func TestExitedAgentIsReapedAndRetained(t *testing.T) {
	t.Parallel()
	tests := []struct {
		agent      string
		wantReason string
	}{
		{"exit3-1", "exited: exit status 3"},
		{"ok-1", "exited: ok"},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if _, err := h.p.Launch(context.Background(), request("tok", "pool", tt.agent)); err != nil {
				t.Fatalf("Launch: %v", err)
			}
			got := h.waitEnded(t, "pool", "local-"+tt.agent)
			if got.Reason != tt.wantReason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.wantReason)
			}
			if got.State.Alive() {
				t.Errorf("State %q is alive, want ended", got.State)
			}
			h.clock.Advance(59 * time.Second) // just inside Retention
			if got := len(h.list(t, "pool")); got != 1 {
				t.Errorf("len(List) within retention = %d, want 1", got)
			}
			dir := filepath.Join(h.p.WorkDir(), "local-"+tt.agent)
			if _, err := os.Stat(dir); err != nil {
				t.Errorf("working dir within retention: %v, want it kept", err)
			}
			h.clock.Advance(time.Second)
			if got := h.list(t, "pool"); len(got) != 0 {
				t.Errorf("List after retention = %v, want none", got)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("working dir after retention: stat error %v, want it removed", err)
			}
		})
	}
}

func TestTerminateKillsProcessGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		agent      string
		grace      time.Duration
		wantReason string
	}{
		{"tree-1", 5 * time.Second, "terminated: signal: terminated"},
		// Ignores SIGTERM (and so does its child): only SIGKILL after the grace ends them.
		{"stubborn-1", 50 * time.Millisecond, "terminated: signal: killed"},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *local.Options) { o.TerminateGrace = tt.grace })
			ctx := context.Background()
			insts, err := h.p.Launch(ctx, request("tok", "pool", tt.agent))
			if err != nil {
				t.Fatalf("Launch: %v", err)
			}
			id := insts[0].ID
			child := readChildPID(t, filepath.Join(h.p.WorkDir(), id))
			if err := h.p.Terminate(ctx, []string{id}); err != nil {
				t.Fatalf("Terminate: %v", err)
			}
			got := h.waitEnded(t, "pool", id)
			if got.Reason != tt.wantReason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.wantReason)
			}
			waitFor(t, "grandchild to die", func() bool { return processGone(child) })
		})
	}
}

func TestTerminateUnknownOrEndedIsNotAnError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.p.Launch(ctx, request("tok", "pool", "ok-1")); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	h.waitEnded(t, "pool", "local-ok-1")
	if err := h.p.Terminate(ctx, []string{"local-ok-1", "local-never-existed"}); err != nil {
		t.Errorf("Terminate(ended, unknown) = %v, want nil", err)
	}
	if got := h.waitEnded(t, "pool", "local-ok-1").Reason; got != "exited: ok" {
		t.Errorf("Reason after Terminate of an ended instance = %q, want %q", got, "exited: ok")
	}
}

func TestLaunchIsIdempotentPerToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	first, err := h.p.Launch(ctx, request("tok", "pool", "x-1", "x-2"))
	if err != nil {
		t.Fatalf("first Launch: %v", err)
	}
	h.clock.Advance(time.Second)
	second, err := h.p.Launch(ctx, request("tok", "pool", "x-1", "x-2"))
	if err != nil {
		t.Fatalf("second Launch: %v", err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second Launch with the same token (-first +second):\n%s", diff)
	}
	if got, want := len(h.list(t, "pool")), 2; got != want {
		t.Errorf("len(List) = %d, want %d", got, want)
	}
	if got, want := strings.Count(h.log.String(), "agent started"), 2; got != want {
		t.Errorf("processes started = %d, want %d", got, want)
	}
}

func TestLaunchPartialFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.p.Launch(ctx, request("tok-1", "pool", "busy-1")); err != nil {
		t.Fatalf("first Launch: %v", err)
	}
	got, err := h.p.Launch(ctx, request("tok-2", "pool", "busy-1", "", "fresh-1"))
	var partial *provider.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("Launch error = %v, want a *provider.PartialError", err)
	}
	if diff := cmp.Diff([]string{"", "busy-1"}, sortedKeys(partial.Failed)); diff != "" {
		t.Errorf("failed agents (-want +got):\n%s", diff)
	}
	if !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("errors.Is(%v, ErrInvalidRequest) = false, want true", err)
	}
	if len(got) != 1 || got[0].AgentName != "fresh-1" {
		t.Errorf("started = %v, want only fresh-1", got)
	}
	// A replay reports the same outcome and starts nothing.
	again, err := h.p.Launch(ctx, request("tok-2", "pool", "busy-1", "", "fresh-1"))
	if !errors.As(err, &partial) || len(partial.Failed) != 2 {
		t.Errorf("replayed Launch error = %v, want the same partial failure", err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("replayed Launch instances (-first +replay):\n%s", diff)
	}
}

func TestLaunchCommandThatCannotStart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *local.Options) { o.Command = []string{"/nonexistent/agent", "--once"} })
	got, err := h.p.Launch(context.Background(), request("tok", "pool", "a-1", "a-2"))
	var partial *provider.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("Launch error = %v, want a *provider.PartialError", err)
	}
	if diff := cmp.Diff([]string{"a-1", "a-2"}, sortedKeys(partial.Failed)); diff != "" {
		t.Errorf("failed agents (-want +got):\n%s", diff)
	}
	if len(got) != 0 {
		t.Errorf("started = %v, want none", got)
	}
	if got := h.list(t, "pool"); len(got) != 0 {
		t.Errorf("List = %v, want none", got)
	}
}

// Not parallel: it sets a variable in the test process's environment.
func TestAgentEnvironment(t *testing.T) {
	t.Setenv("ADOFLEET_TEST_UNRELATED", "must-not-leak")
	h := newHarness(t, func(o *local.Options) {
		o.Env = map[string]string{"AZP_URL": "http://127.0.0.1:1/org", "SHARED": "provider"}
	})
	req := request("tok", "pool-e", "env-1")
	req.Env = map[string]string{"AZP_TOKEN": "s3cret-pat", "SHARED": "request"}
	if _, err := h.p.Launch(context.Background(), req); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	h.waitEnded(t, "pool-e", "local-env-1")
	out, err := os.ReadFile(filepath.Join(h.p.WorkDir(), "local-env-1", local.LogFile))
	if err != nil {
		t.Fatalf("read agent log: %v", err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	delete(got, "PWD") // set by the shell itself
	want := map[string]string{
		"AZP_URL":             "http://127.0.0.1:1/org",
		"AZP_TOKEN":           "s3cret-pat",
		"SHARED":              "request",
		"AZP_AGENT_NAME":      "env-1",
		"ADOFLEET_POOL":       "pool-e",
		"ADOFLEET_CONTROLLER": "ctl",
		"ADOFLEET_AGENT":      "env-1",
	}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			want[k] = v
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agent environment (-want +got):\n%s", diff)
	}
	if logs := h.log.String(); strings.Contains(logs, "s3cret-pat") {
		t.Errorf("provider log contains a secret env value:\n%s", logs)
	}
}

func TestCloseTerminatesEverything(t *testing.T) {
	t.Parallel()
	p, err := local.New(local.Options{Command: []string{"/bin/sh", "-c", agentScript}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()
	if _, err := p.Launch(ctx, request("tok", "pool", "s-1", "s-2")); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	insts, _ := p.List(ctx, "pool")
	if len(insts) != 2 {
		t.Fatalf("List after Close = %v, want 2 ended instances", insts)
	}
	for _, in := range insts {
		if in.State != provider.StateTerminated {
			t.Errorf("%s state after Close = %q, want %q", in.ID, in.State, provider.StateTerminated)
		}
	}
	if _, err := os.Stat(p.WorkDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary work dir after Close: stat err = %v, want not exist", err)
	}
	if _, err := p.Launch(ctx, request("tok-2", "pool", "s-3")); err == nil {
		t.Errorf("Launch after Close = nil error, want an error")
	}
}

func TestLaunchRetriesAgentsACancelledCallNeverTried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	insts, err := h.p.Launch(cancelled, request("tok", "pool", "c-1"))
	if !errors.Is(err, context.Canceled) || len(insts) != 0 {
		t.Fatalf("Launch with a cancelled context = %v, %v; want no instances and context.Canceled", insts, err)
	}
	insts, err = h.p.Launch(context.Background(), request("tok", "pool", "c-1"))
	if err != nil || len(insts) != 1 {
		t.Errorf("retry with the same token = %v, %v; want one started instance", insts, err)
	}
}
