package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/notify"
)

// throttleEvery bounds the api.throttled events of one API and operation: a throttled caller
// retries, and each 429 would otherwise be an outbox write.
const throttleEvery = time.Minute

// eventSink is the notify.Publisher serve hands to every producer. It forwards to the Publisher set
// once notifications are open and drops events before that (or when notifications are off): the
// ADO client and the providers are built before the store the outbox lives in, and their throttle
// hooks publish through the sink.
type eventSink struct {
	log *slog.Logger
	now func() time.Time

	mu        sync.Mutex
	pub       notify.Publisher
	throttled map[string]time.Time // api/operation -> last api.throttled published
	pending   sync.WaitGroup       // throttle events being published
}

func newEventSink(log *slog.Logger) *eventSink {
	return &eventSink{log: log.With("component", "events"), now: time.Now, throttled: map[string]time.Time{}}
}

// set connects the sink to the notifications' Publisher.
func (s *eventSink) set(p notify.Publisher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pub = p
}

// Publish forwards e, or drops it while no Publisher is set.
func (s *eventSink) Publish(ctx context.Context, e notify.Event) error {
	s.mu.Lock()
	p := s.pub
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.Publish(ctx, e)
}

// adoThrottled is ado.Options.OnThrottle: ADO answered 429.
func (s *eventSink) adoThrottled(op string, retryAfter time.Duration) {
	s.throttle("ado", op, retryAfter.String(), "")
}

// providerThrottled is the provider.Instrument throttle hook: a cloud API throttled a call after
// the SDK's own retries.
func (s *eventSink) providerThrottled(prov, op, code string) {
	s.throttle(prov, op, "", code)
}

// throttle publishes api.throttled at most once per throttleEvery per API and operation, on its
// own goroutine: the hooks run on the throttled request's goroutine and must not block it.
func (s *eventSink) throttle(api, op, retryAfter, code string) {
	key := api + "/" + op
	now := s.now()
	s.mu.Lock()
	if last, ok := s.throttled[key]; ok && now.Sub(last) < throttleEvery {
		s.mu.Unlock()
		return
	}
	s.throttled[key] = now
	s.mu.Unlock()
	summary := fmt.Sprintf("%s throttled %s", api, op)
	if code != "" {
		summary += " (" + code + ")"
	}
	if retryAfter != "" {
		summary += "; retry after " + retryAfter
	}
	e := notify.Event{
		Type: notify.APIThrottled, Severity: notify.SeverityWarning, Time: now.UTC(), Summary: summary,
		Fields:   map[string]string{"api": api, "operation": op, "retryAfter": retryAfter},
		DedupKey: string(notify.APIThrottled) + "/" + key,
	}
	s.pending.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Publish(ctx, e); err != nil {
			s.log.Warn("publishing api.throttled failed", "api", api, "operation", op, "err", err)
		}
	})
}

// wait waits for the throttle events being published (at shutdown, before the outbox closes).
func (s *eventSink) wait() { s.pending.Wait() }
