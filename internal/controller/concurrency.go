package controller

import (
	"context"
	"sync"
	"sync/atomic"
)

// A fleet's pools are reconciled concurrently, as serve's loops and ReconcileAll run them, but no
// more than Options.MaxConcurrentCycles at once: every pool's first cycle starts at the same
// moment, and so do the cycles a burst of service-hook events wakes. Unbounded, a controller of
// 500 pools would send 1,000 list calls to ADO and 500 list calls to the providers in one instant,
// and hold every cycle's memory at once.

// acquireSlot waits until fewer than MaxConcurrentCycles cycles run, or ctx ends.
func (c *Controller) acquireSlot(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
	default:
		c.m.waiting.Inc()
		defer c.m.waiting.Dec()
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.m.inFlight.Inc()
	return nil
}

func (c *Controller) releaseSlot() {
	c.m.inFlight.Dec()
	<-c.slots
}

// Outcome is one pool's cycle in ReconcileAll.
type Outcome struct {
	Result Result
	Err    error
}

// ReconcileAll runs one cycle for every pool, at most MaxConcurrentCycles at once, and returns
// their outcomes in config order once all are done. A pool's failure does not stop the others.
// MaxConcurrentCycles workers take the pools in config order, rather than a goroutine per pool
// waiting for a slot: a thousand pools cost a few goroutines, whose stacks, grown by the first
// cycle, serve the next ones.
func (c *Controller) ReconcileAll(ctx context.Context) []Outcome {
	out := make([]Outcome, len(c.pools))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(c.pools), cap(c.slots)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(c.pools); i = int(next.Add(1) - 1) {
				res, err := c.reconcile(ctx, c.pools[i])
				out[i] = Outcome{Result: res, Err: err}
			}
		})
	}
	wg.Wait()
	return out
}
