package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider/local"
)

func TestRestartReadoptsRunningAgents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	first := newHarness(t, func(o *local.Options) { o.WorkDir = dir })
	launched, err := first.p.Launch(ctx, request("tok", "pool", "keep-1"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}

	// A second provider on the same work dir stands for the controller after a crash.
	second := newHarness(t, func(o *local.Options) {
		o.WorkDir = dir
		o.AdoptPollInterval = 10 * time.Millisecond
	})
	if diff := cmp.Diff(launched, second.list(t, "pool")); diff != "" {
		t.Errorf("List after restart (-launched +adopted):\n%s", diff)
	}
	replay, err := second.p.Launch(ctx, request("tok", "pool", "keep-1"))
	if err != nil {
		t.Fatalf("Launch replay after restart: %v", err)
	}
	if diff := cmp.Diff(launched, replay); diff != "" {
		t.Errorf("Launch replay after restart (-launched +replay):\n%s", diff)
	}
	if strings.Contains(second.log.String(), "agent started") {
		t.Errorf("the restarted provider started a process for a known token")
	}

	id := launched[0].ID
	if err := second.p.Terminate(ctx, []string{id}); err != nil {
		t.Fatalf("Terminate adopted: %v", err)
	}
	got := second.waitEnded(t, "pool", id)
	if want := "terminated: exit status unknown (adopted after a restart)"; got.Reason != want {
		t.Errorf("Reason = %q, want %q", got.Reason, want)
	}
	waitFor(t, "state file removal", func() bool {
		_, err := os.Stat(filepath.Join(dir, id, local.StateFile))
		return errors.Is(err, os.ErrNotExist)
	})
}

func TestRestartForgetsAgentsThatEnded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	first := newHarness(t, func(o *local.Options) { o.WorkDir = dir })
	launched, err := first.p.Launch(ctx, request("tok", "pool", "gone-1"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	id := launched[0].ID
	statePath := filepath.Join(dir, id, local.StateFile)
	saved, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	if err := first.p.Terminate(ctx, []string{id}); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	first.waitEnded(t, "pool", id)
	// As if the controller had crashed before it could clean up after the agent.
	if err := os.WriteFile(statePath, saved, 0o600); err != nil {
		t.Fatalf("restore state: %v", err)
	}

	second := newHarness(t, func(o *local.Options) { o.WorkDir = dir })
	if got := second.list(t, "pool"); len(got) != 0 {
		t.Errorf("List after restart = %v, want none", got)
	}
	if _, err := os.Stat(statePath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale state file: stat err = %v, want not exist", err)
	}
	if _, err := second.p.Launch(ctx, request("tok-2", "pool", "gone-1")); err != nil {
		t.Errorf("Launch of the ended agent's name after restart: %v", err)
	}
}
