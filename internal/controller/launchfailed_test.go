package controller_test

import (
	"errors"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

// TestOnLaunchFailedGetsTheCause: a batch with failed agents reports the pool and the first cause
// once, so the checks wiring can fail waiting checks at once on an error no retry can fix.
func TestOnLaunchFailedGetsTheCause(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	type call struct {
		pool string
		err  error
	}
	var calls []call
	opts := h.options(nil)
	opts.OnLaunchFailed = func(pool string, err error) { calls = append(calls, call{pool, err}) }
	c := h.newController(opts)
	h.reconcile(c)

	h.queue(2, time.Second)
	if res := h.reconcile(c); res.Launched != 2 || len(calls) != 0 {
		t.Fatalf("launched %d with %d failure reports; want 2 and none", res.Launched, len(calls))
	}
	h.prov.FailAgent("linux-003", provider.ErrInvalidRequest)
	h.queue(1, time.Second)
	res := h.reconcile(c)
	if res.Launched != 0 || res.LaunchFailed != 1 {
		t.Fatalf("launched %d, failed %d; want 0, 1", res.Launched, res.LaunchFailed)
	}
	if len(calls) != 1 || calls[0].pool != testPool || !errors.Is(calls[0].err, provider.ErrInvalidRequest) {
		t.Errorf("reports = %+v, want one for pool %s with the invalid-request cause", calls, testPool)
	}
}
