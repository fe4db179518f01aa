// Package notifytest holds test doubles for notifications: a notify.Publisher that keeps what it
// is given (Recorder) and a recording HTTP receiver with scripted answers (Receiver).
package notifytest

import (
	"context"
	"sync"

	"github.com/adofleet/adofleet/internal/notify"
)

// Recorder is a notify.Publisher that keeps the events it is given, in order. Its zero value is
// ready to use, and it is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []notify.Event
	err    error
}

var _ notify.Publisher = (*Recorder)(nil)

// Publish records e, or returns the error set with Fail without recording anything.
func (r *Recorder) Publish(_ context.Context, e notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.events = append(r.events, e)
	return nil
}

// Fail makes every later Publish return err, as a broken outbox would; nil makes it record again.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Events returns a copy of the recorded events, oldest first (nil when there are none).
func (r *Recorder) Events() []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Event(nil), r.events...)
}

// Of returns the recorded events of type t, oldest first (nil when there are none).
func (r *Recorder) Of(t notify.EventType) []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notify.Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// Count returns how many events of type t were recorded.
func (r *Recorder) Count(t notify.EventType) int { return len(r.Of(t)) }
