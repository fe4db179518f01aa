package local_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/local"
	"github.com/adofleet/adofleet/internal/testclock"
)

// agentScript behaves according to the agent's name, so one provider can run every kind of agent.
const agentScript = `case "$AZP_AGENT_NAME" in
  exit3-*) exit 3 ;;
  ok-*) exit 0 ;;
  env-*) env; exit 0 ;;
  tree-*) sleep 1000 & echo $! > child.pid; wait ;;
  stubborn-*) trap '' TERM; sleep 1000 & echo $! > child.pid; wait ;;
  *) exec sleep 1000 ;;
esac`

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// syncBuffer is a log sink safe to read while agents' reapers still log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

type harness struct {
	p     *local.Provider
	clock *testclock.Manual // the Clock seam
	log   *syncBuffer
}

func newHarness(t *testing.T, modify ...func(*local.Options)) *harness {
	t.Helper()
	h := &harness{clock: testclock.NewManual(epoch), log: &syncBuffer{}}
	opts := local.Options{
		Command:        []string{"/bin/sh", "-c", agentScript},
		WorkDir:        t.TempDir(),
		Controller:     "ctl",
		Logger:         slog.New(slog.NewTextHandler(h.log, nil)),
		Retention:      time.Minute,
		TerminateGrace: 5 * time.Second,
		Clock:          h.clock.Now,
	}
	for _, m := range modify {
		m(&opts)
	}
	p, err := local.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.p = p
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func request(token, pool string, names ...string) provider.LaunchRequest {
	req := provider.LaunchRequest{Token: token, Pool: pool, Tags: provider.TagsFor(pool, "ctl", "", token)}
	for _, n := range names {
		req.Agents = append(req.Agents, provider.AgentSpec{Name: n})
	}
	return req
}

func (h *harness) list(t *testing.T, pool string) []provider.Instance {
	t.Helper()
	insts, err := h.p.List(context.Background(), pool)
	if err != nil {
		t.Fatalf("List(%q): %v", pool, err)
	}
	return insts
}

// waitEnded waits until the instance is terminated and returns it.
func (h *harness) waitEnded(t *testing.T, pool, id string) provider.Instance {
	t.Helper()
	var got provider.Instance
	waitFor(t, id+" terminated", func() bool {
		for _, in := range h.list(t, pool) {
			if in.ID == id && in.State == provider.StateTerminated {
				got = in
				return true
			}
		}
		return false
	})
	return got
}

// waitFor polls cond; the deadline only guards against a hung test, it asserts no duration.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processGone reports whether pid has exited (a zombie nobody reaped counts as gone).
func processGone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}

func readChildPID(t *testing.T, dir string) int {
	t.Helper()
	var pid int
	waitFor(t, "child.pid in "+dir, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

func sortedKeys(m map[string]error) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
