package checks

import (
	"context"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// completingTTL is how long a request stays out of the demand count after its completion began;
// far longer than the claim, post and done mark take, and short enough to keep the set small.
const completingTTL = 10 * time.Minute

// markCompleting records that key's completion has begun, and forgets old entries.
func (c *Callbacker) markCompleting(key store.CallbackKey) {
	now := c.opts.Now()
	c.compMu.Lock()
	defer c.compMu.Unlock()
	if c.completing == nil {
		c.completing = map[store.CallbackKey]time.Time{}
	}
	for k, at := range c.completing {
		if now.Sub(at) > completingTTL {
			delete(c.completing, k)
		}
	}
	c.completing[key] = now
}

// PendingByPool counts each pool's check requests that still need an agent: pending in the store
// and not being completed by this Callbacker. The controller's Demands option reads it every cycle.
// (The package-level PendingByPool counts the store alone.)
func (c *Callbacker) PendingByPool(ctx context.Context) (map[string]int, error) {
	all, err := c.opts.Requests.Pending(ctx, "")
	if err != nil {
		return nil, err
	}
	// Read after the store: a request whose completion began before or during that read is in the
	// set now, whichever side of the read its done mark fell on.
	c.compMu.Lock()
	defer c.compMu.Unlock()
	out := map[string]int{}
	for _, r := range all {
		if _, busy := c.completing[r.Key()]; !busy {
			out[r.Pool]++
		}
	}
	return out, nil
}
