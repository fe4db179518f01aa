package controller_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/store"
)

// TestNoActionAfterTheTermEnds: a leader whose term can no longer be proven by its clock (a
// pause of the whole process that outlasted the renew deadline, before the term's context was
// cancelled) makes no call that changes ADO or the cloud. Its launch intent stays for the next
// leader, and once the term is good again the same cycle launches as usual.
func TestNoActionAfterTheTermEnds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	c := h.newController(h.options(nil))
	if err := c.EnsurePlaceholders(h.ctx); err != nil {
		t.Fatalf("EnsurePlaceholders: %v", err)
	}
	h.queue(2, time.Minute)

	var over atomic.Bool
	over.Store(true)
	ctx := leader.WithTermCheck(h.ctx, func() error {
		if over.Load() {
			return fmt.Errorf("paused past the deadline: %w", leader.ErrTermOver)
		}
		return nil
	})
	res, err := c.ReconcileOnce(ctx, testPool)
	if !errors.Is(err, leader.ErrTermOver) {
		t.Fatalf("ReconcileOnce with the term over: got %v, want an error wrapping ErrTermOver", err)
	}
	if n := len(h.prov.Instances()); n != 0 {
		t.Errorf("the provider started %d instances after the term ended, want 0", n)
	}
	if res.Launched != 0 {
		t.Errorf("Result.Launched = %d, want 0", res.Launched)
	}
	intents := map[string]string{} // agent -> launch token
	for name, r := range h.records() {
		if r.State == store.StateLaunching {
			intents[name] = r.LaunchToken
		}
	}
	if len(intents) == 0 {
		t.Fatal("no launch intent kept for the next leader")
	}

	over.Store(false)
	for i := 0; len(h.prov.Instances()) < len(intents) && i < 20; i++ {
		if _, err := c.ReconcileOnce(ctx, testPool); err != nil {
			t.Logf("ReconcileOnce with the term good again: %v", err)
		}
	}
	recs := h.records()
	for name, token := range intents {
		r := recs[name]
		if r.State != store.StateLaunched || r.LaunchToken != token {
			t.Errorf("agent %s: %s with token %q, want launched under the kept intent's token %q", name, r.State, r.LaunchToken, token)
		}
	}
}

// TestCheckTermWithoutElection: a context of no election is always good to act under.
func TestCheckTermWithoutElection(t *testing.T) {
	t.Parallel()
	if err := leader.CheckTerm(context.Background()); err != nil {
		t.Errorf("CheckTerm(no election): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := leader.CheckTerm(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("CheckTerm(cancelled): got %v, want context.Canceled", err)
	}
}
