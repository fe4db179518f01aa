// Package testclock holds the clocks tests inject where code takes a Now func or a Clock: a
// manual clock that stands still until the test moves it, and an offset clock that runs with
// real time plus a lead the test adds to. It is for tests only; it is an ordinary package, not a
// _test.go file, because the tests of many packages share it instead of each defining its own.
package testclock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Manual is a clock that stands still at the time it is given until Advance or Set moves it. It
// is safe for concurrent use; its zero value stands at the zero time.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a Manual clock standing at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now returns the clock's time. As a method value (c.Now) it is a func() time.Time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (back, if d is negative).
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Offset is a clock that runs with real time plus an offset that Advance adds to, so that the
// code under test sees time pass while whatever runs on real time (servers' timeouts, sessions)
// does not. It is safe for concurrent use; its zero value runs with real time.
type Offset struct{ offset atomic.Int64 }

// Now returns the real time plus the offset. As a method value (c.Now) it is a func() time.Time.
func (c *Offset) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance adds d to the offset.
func (c *Offset) Advance(d time.Duration) { c.offset.Add(int64(d)) }
