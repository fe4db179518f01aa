// Package leadertest holds what the elector's tests and the stores' failover tests share: a
// manual clock, a lease store that can crash or fail, and the failover scenario every backend
// runs (RunFailover).
package leadertest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/testclock"
)

// Clock is a clock that moves only when told to.
type Clock = testclock.Manual

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return testclock.NewManual(t) }

// ErrDown is what a Faulty lease store answers while failing or after a crash.
var ErrDown = errors.New("leadertest: lease store unreachable")

// Attempt is one AcquireLease call a Faulty saw answered: the time it was made at, and the result.
type Attempt struct {
	Now   time.Time
	Lease store.Lease
	Err   error
}

// Faulty wraps a lease store: Crash makes every later call fail (a dead process: its lease is
// never released), SetFailing makes calls fail until reset (a network partition). It records
// every AcquireLease answer.
type Faulty struct {
	store.Leases
	crashed, failing atomic.Bool

	mu       sync.Mutex
	attempts []Attempt
	changed  chan struct{} // closed and replaced on every new attempt
}

// NewFaulty wraps l.
func NewFaulty(l store.Leases) *Faulty { return &Faulty{Leases: l, changed: make(chan struct{})} }

// Crash makes every later call fail, for good.
func (f *Faulty) Crash() { f.crashed.Store(true) }

// SetFailing makes calls fail (true) or pass again (false).
func (f *Faulty) SetFailing(v bool) { f.failing.Store(v) }

func (f *Faulty) down() bool { return f.crashed.Load() || f.failing.Load() }

// AcquireLease passes the call on unless the store is down, and records the answer.
func (f *Faulty) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (store.Lease, error) {
	if f.down() {
		return store.Lease{}, ErrDown
	}
	l, err := f.Leases.AcquireLease(ctx, name, holder, ttl, now)
	f.mu.Lock()
	f.attempts = append(f.attempts, Attempt{Now: now, Lease: l, Err: err})
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	return l, err
}

// ReleaseLease passes the call on unless the store is down.
func (f *Faulty) ReleaseLease(ctx context.Context, l store.Lease) error {
	if f.down() {
		return ErrDown
	}
	return f.Leases.ReleaseLease(ctx, l)
}

// Attempts returns the answered AcquireLease calls so far, and a channel closed at the next.
func (f *Faulty) Attempts() ([]Attempt, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Attempt(nil), f.attempts...), f.changed
}

// LastWin returns the last successful attempt, if any.
func (f *Faulty) LastWin() (Attempt, bool) {
	as, _ := f.Attempts()
	for i := len(as) - 1; i >= 0; i-- {
		if as[i].Err == nil {
			return as[i], true
		}
	}
	return Attempt{}, false
}

// FirstWin returns the first successful attempt, if any.
func (f *Faulty) FirstWin() (Attempt, bool) {
	as, _ := f.Attempts()
	for _, a := range as {
		if a.Err == nil {
			return a, true
		}
	}
	return Attempt{}, false
}
