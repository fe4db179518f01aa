package controller_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
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

// silentProvider answers every launch with no instance and no error, as a provider does for a
// token whose instances vanished before anyone listed them.
type silentProvider struct{ provider.Provider }

func (silentProvider) Launch(context.Context, provider.LaunchRequest) ([]provider.Instance, error) {
	return nil, nil
}

// TestLaunchIntentWithNoInstanceIsGivenUp: an intent whose launch keeps bringing nothing back is
// kept (and re-issued) until the registration timeout, then given up as failed, which frees its
// slot for a new launch.
func TestLaunchIntentWithNoInstanceIsGivenUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testPolicy(), false)
	c := h.newController(h.options(silentProvider{h.prov}))
	h.reconcile(c)
	h.queue(1, time.Second)
	h.reconcile(c)
	launching := func() []string {
		var out []string
		for name, r := range h.records() {
			if r.State == store.StateLaunching {
				out = append(out, name)
			}
		}
		return out
	}
	first := launching()
	if len(first) != 1 {
		t.Fatalf("launching records after the launch: %v, want one", first)
	}
	h.reconcile(c) // re-issued, still nothing: kept
	if got := launching(); len(got) != 1 || got[0] != first[0] {
		t.Fatalf("launching records before the timeout: %v, want %v kept", got, first)
	}
	h.clock.Advance(testPolicy().RegistrationTimeout + time.Second)
	res := h.reconcile(c)
	if res.LaunchFailed != 1 {
		t.Errorf("LaunchFailed = %d after the registration timeout, want 1", res.LaunchFailed)
	}
	rec := h.records()[first[0]]
	if rec.State != store.StateGone || !strings.Contains(rec.Reason, "no instance for the agent's launch token") {
		t.Errorf("record %s: %s %q, want gone for want of an instance", first[0], rec.State, rec.Reason)
	}
}
