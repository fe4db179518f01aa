package controller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// hungList is a provider whose List never answers until its context ends, as a cloud API call
// that hangs on a dead connection.
type hungList struct{ provider.Provider }

func (h hungList) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestCycleTimeoutBoundsAHungCall: a provider call that never returns fails its cycle with the
// deadline instead of stalling the pool's loop forever.
func TestCycleTimeoutBoundsAHungCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	opts := h.options(hungList{h.prov})
	opts.CycleTimeout = 50 * time.Millisecond
	c := h.newController(opts)

	done := make(chan error, 1)
	go func() {
		_, err := c.ReconcileOnce(h.ctx, testPool) // h.ctx has no deadline of its own
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("cycle error = %v, want it to wrap context.DeadlineExceeded", err)
		}
	case <-time.After(time.Minute): // a liveness guard, not a timing assertion
		t.Fatal("ReconcileOnce is still blocked in the hung provider call")
	}
}

// cancelAfterLaunch starts the instances, then cancels the cycle's context before returning, as a
// SIGINT arriving just as the provider answers.
type cancelAfterLaunch struct {
	provider.Provider
	cancel context.CancelFunc
}

func (p cancelAfterLaunch) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	insts, err := p.Provider.Launch(ctx, req)
	p.cancel()
	return insts, err
}

// TestLaunchRecordedDespiteCancel: instances the provider reports started are recorded as launched
// even when the cycle is cancelled at that moment, so a shutdown does not leave intents behind for
// the next start to resume.
func TestLaunchRecordedDespiteCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	h.reconcile(h.newController(h.options(nil))) // placeholder
	h.queue(2, time.Second)

	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	c := h.newController(h.options(cancelAfterLaunch{Provider: h.prov, cancel: cancel}))
	res, _ := c.ReconcileOnce(ctx, testPool)
	if res.Launched != 2 {
		t.Fatalf("launched %d, want 2", res.Launched)
	}
	recs := h.records()
	if len(recs) != 2 {
		t.Fatalf("records %v, want 2", recs)
	}
	for name, r := range recs {
		if r.State != store.StateLaunched || r.InstanceID == "" {
			t.Errorf("record %s = %s (instance %q), want launched with its instance", name, r.State, r.InstanceID)
		}
	}
}
