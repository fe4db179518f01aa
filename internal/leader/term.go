package leader

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrTermOver: this replica can no longer prove by its own clock that it still leads (no lease
// renewal within the renew deadline), so another replica may lead now.
var ErrTermOver = errors.New("leader term over: no lease renewal within the renew deadline")

// A leader's context is cancelled once its term can no longer be proven, but that is done by a
// timer on another goroutine. After the whole process was paused (a long GC, a frozen VM, SIGSTOP)
// the controller's goroutine can resume first and make one more call to ADO or the cloud, which
// take no fencing token, before the cancellation lands. CheckTerm reads the clock itself, so a
// caller that checks right before such a call is stopped; the window shrinks to the instructions
// between the check and the call. It narrows the hazard, it cannot close it (see docs/ha.md).

type termKey struct{}

// WithTermCheck returns ctx carrying check, which CheckTerm calls: nil while the term can still be
// proven, else an error wrapping ErrTermOver. Electors set it on the lead context.
func WithTermCheck(ctx context.Context, check func() error) context.Context {
	return context.WithValue(ctx, termKey{}, check)
}

// CheckTerm returns nil when ctx belongs to no election (a single replica) or its term can still
// be proven by the local clock, else an error wrapping ErrTermOver (or ctx's error once it
// ended). Call it right before an action another leader must not also take.
func CheckTerm(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if check, ok := ctx.Value(termKey{}).(func() error); ok {
		return check()
	}
	return nil
}

// termClock is the store elector's proof of its term: the renew deadline, moved on by each
// successful renewal. It is kept as an offset from the first deadline, so that a time.Now with a
// monotonic reading compares on the monotonic clock, which a wall-clock step does not move.
type termClock struct {
	now   func() time.Time
	first time.Time
	after atomic.Int64 // the deadline's distance from first
}

func newTermClock(now func() time.Time, deadline time.Time) *termClock {
	return &termClock{now: now, first: deadline}
}

func (t *termClock) extend(deadline time.Time) { t.after.Store(int64(deadline.Sub(t.first))) }

func (t *termClock) deadline() time.Time { return t.first.Add(time.Duration(t.after.Load())) }

func (t *termClock) check() error {
	d := t.deadline()
	if now := t.now(); !now.Before(d) {
		return fmt.Errorf("renew deadline %s passed %s ago: %w", d.UTC().Format(time.RFC3339Nano), now.Sub(d), ErrTermOver)
	}
	return nil
}
