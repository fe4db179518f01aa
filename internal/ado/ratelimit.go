package ado

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff and rate-limit bounds. ADO's limit is 200 TSTUs in a sliding five-minute window
// (https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits), so no wait it asks
// for should exceed that window; a longer value is treated as the window.
const (
	backoffBase = 500 * time.Millisecond
	backoffCap  = 30 * time.Second
	maxHold     = 5 * time.Minute
)

// backoff is the exponential wait before retry number attempt+1: half of base*2^attempt (capped)
// plus up to the other half at random, so clients that failed together do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 16 {
		d = min(backoffCap, backoffBase<<attempt)
	}
	return d/2 + c.jitter(d/2)
}

// retryWait is how long to wait before the next attempt, and whether the server said so
// (Retry-After) rather than the client's own backoff.
func (c *Client) retryWait(attempt int, res *response) (time.Duration, bool) {
	if res != nil {
		if d, ok := parseRetryAfter(res.header.Get("Retry-After"), c.now()); ok {
			return min(d, maxHold), true
		}
	}
	return c.backoff(attempt), false
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date (RFC 9110 10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		return time.Duration(min(secs, maxHold.Seconds()) * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// observeRateLimit reads ADO's X-RateLimit-* headers from any response and holds later calls:
// with X-RateLimit-Remaining at 0, until X-RateLimit-Reset (epoch seconds); with
// X-RateLimit-Delay (seconds ADO delayed this request), for that long, to stop digging deeper.
func (c *Client) observeRateLimit(r request, h http.Header) {
	now := c.now()
	if v := h.Get("X-RateLimit-Delay"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			d := min(time.Duration(secs*float64(time.Second)), maxHold)
			c.log.Warn("ADO is delaying requests: holding further calls", "call", r.op, "delay", d,
				"resource", h.Get("X-RateLimit-Resource"))
			c.holdUntil(now.Add(d))
		}
	}
	remaining, err := strconv.ParseFloat(h.Get("X-RateLimit-Remaining"), 64)
	if err != nil || remaining > 0 {
		return
	}
	reset, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64)
	if err != nil {
		return
	}
	until := time.Unix(0, int64(reset*float64(time.Second)))
	if until.After(now.Add(maxHold)) {
		until = now.Add(maxHold)
	}
	if until.After(now) {
		c.log.Warn("ADO rate limit exhausted: holding calls until reset", "call", r.op,
			"until", until, "resource", h.Get("X-RateLimit-Resource"))
		c.holdUntil(until)
	}
}

// holdUntil makes no request start before t (it never shortens an existing hold).
func (c *Client) holdUntil(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.notBefore) {
		c.notBefore = t
	}
}

// waitGate sleeps until the hold set by rate-limit headers has passed.
func (c *Client) waitGate(ctx context.Context, r request) error {
	c.mu.Lock()
	d := c.notBefore.Sub(c.now())
	c.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	c.log.Debug("waiting for ADO rate limit hold", "call", r.op, "wait", d)
	return c.sleep(ctx, d)
}
