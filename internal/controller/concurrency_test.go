package controller_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/promreg/promregtest"
	"github.com/adofleet/adofleet/internal/provider"
)

// gateProvider holds every List until released, and records how many were held at once.
type gateProvider struct {
	provider.Provider
	release chan struct{}

	mu            sync.Mutex
	active, most  int
	listed, fails map[string]int
}

func (g *gateProvider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	g.mu.Lock()
	g.active++
	g.most = max(g.most, g.active)
	g.listed[pool]++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.active--
		g.mu.Unlock()
	}()
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if g.fails[pool] > 0 {
		return nil, fmt.Errorf("list %s: scripted failure", pool)
	}
	return g.Provider.List(ctx, pool)
}

func (g *gateProvider) counts() (active, most, pools int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.active, g.most, len(g.listed)
}

// TestReconcileAllBoundsConcurrentCycles runs one cycle for each of 5 pools with at most 2 at
// once: 2 cycles reach the provider, and no other pool is listed until they are let go. Every
// pool then gets its cycle, the outcomes come back in config order, and one pool's failure is
// its own. The slots themselves, which ReconcileOnce and Run's loops take too, are checked below.
func TestReconcileAllBoundsConcurrentCycles(t *testing.T) {
	h := newHarness(t, testPolicy(), false)
	gate := &gateProvider{Provider: h.prov, release: make(chan struct{}),
		listed: map[string]int{}, fails: map[string]int{"pool-3": 1}}
	opts := h.options(gate)
	opts.Providers = controller.ProviderMap{"fake": gate}
	opts.Pools = nil
	for i := range 5 {
		name := fmt.Sprintf("pool-%d", i)
		if _, err := h.org.AddPool(name); err != nil {
			t.Fatalf("AddPool: %v", err)
		}
		opts.Pools = append(opts.Pools, controller.PoolConfig{Name: name, Provider: "fake", Policy: h.policy})
	}
	opts.MaxConcurrentCycles = 2
	reg := prometheus.NewPedanticRegistry()
	opts.Registerer = reg
	c := h.newController(opts)

	done := make(chan []controller.Outcome)
	go func() { done <- c.ReconcileAll(h.ctx) }()

	waitFor(t, "2 cycles at the provider", func() bool {
		active, _, _ := gate.counts()
		running, _ := promregtest.Value(t, reg, "adofleet_reconcile_in_flight")
		return active == 2 && running == 2
	})
	// Neither held cycle can end, so no third one can have started.
	if _, _, pools := gate.counts(); pools != 2 {
		t.Errorf("pools at the provider while 2 cycles are held: %d, want 2", pools)
	}
	close(gate.release)
	outs := <-done

	if _, most, pools := gate.counts(); most != 2 || pools != 5 {
		t.Errorf("cycles at the provider at once: %d, want 2; pools listed: %d, want 5", most, pools)
	}
	for i, o := range outs {
		want := fmt.Sprintf("pool-%d", i)
		if o.Result.Pool != want {
			t.Errorf("outcome %d is for pool %q, want %q (config order)", i, o.Result.Pool, want)
		}
		if failed := o.Err != nil; failed != (want == "pool-3") {
			t.Errorf("%s: err = %v; only pool-3's provider failed", want, o.Err)
		}
	}
	for _, name := range []string{"adofleet_reconcile_waiting", "adofleet_reconcile_in_flight"} {
		if v, _ := promregtest.Value(t, reg, name); v != 0 {
			t.Errorf("%s = %v after every cycle ended, want 0", name, v)
		}
	}
}

// TestCycleWaitingForASlotEndsWithItsContext: a cycle that waits for a slot gives up when its
// context ends, before touching ADO or the provider, and the pool's next cycle runs once a slot
// is free.
func TestCycleWaitingForASlotEndsWithItsContext(t *testing.T) {
	h := newHarness(t, testPolicy(), false)
	gate := &gateProvider{Provider: h.prov, release: make(chan struct{}), listed: map[string]int{}}
	opts := h.options(gate)
	opts.Providers = controller.ProviderMap{"fake": gate}
	if _, err := h.org.AddPool("other"); err != nil {
		t.Fatalf("AddPool: %v", err)
	}
	opts.Pools = append(opts.Pools, controller.PoolConfig{Name: "other", Provider: "fake", Policy: h.policy})
	opts.MaxConcurrentCycles = 1
	reg := prometheus.NewPedanticRegistry()
	opts.Registerer = reg
	c := h.newController(opts)

	held := make(chan error)
	go func() { _, err := c.ReconcileOnce(h.ctx, testPool); held <- err }()
	waitFor(t, "the first cycle at the provider", func() bool { a, _, _ := gate.counts(); return a == 1 })

	ctx, cancel := context.WithCancel(h.ctx)
	waited := make(chan error)
	go func() { _, err := c.ReconcileOnce(ctx, "other"); waited <- err }()
	waitFor(t, "the second cycle waiting for a slot", func() bool {
		v, _ := promregtest.Value(t, reg, "adofleet_reconcile_waiting")
		return v == 1
	})
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("ReconcileOnce(other) waiting for a slot, context ended: err = %v, want context.Canceled", err)
	}
	if _, _, pools := gate.counts(); pools != 1 {
		t.Errorf("the cycle that never got a slot reached the provider")
	}
	close(gate.release)
	if err := <-held; err != nil {
		t.Fatalf("first cycle: %v", err)
	}
	if _, err := c.ReconcileOnce(h.ctx, "other"); err != nil {
		t.Fatalf("ReconcileOnce(other) once the slot is free: %v", err)
	}
}

// waitFor polls cond until it holds. The minute is a guard against a hang, not a measure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for give := time.Now().Add(time.Minute); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(give) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}
