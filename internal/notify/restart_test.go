package notify_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/store"
)

// TestRestartDeliversPending closes a notifier with messages pending (failed once, never tried,
// and one claimed by a worker that then died), opens a new one on the same SQLite file, and
// checks that each message reaches the receiver exactly once.
func TestRestartDeliversPending(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, answer{status: http.StatusServiceUnavailable}, answer{status: http.StatusBadGateway})
	path := filepath.Join(t.TempDir(), "adofleet.db")
	route := notify.Route{Name: "w", Kind: notify.KindWebhook, URL: "env:URL", SigningSecret: "env:KEY"}
	sec := secrets{"env:URL": rcv.hookURL(), "env:KEY": "k"}
	c := newClock()

	st := openStore(t, path)
	first := newEnvOn(t, st, c, sec, route)
	for _, s := range []string{"a", "b", "c"} {
		first.publish(t, event(s))
	}
	first.deliver(t) // two fail, one is delivered
	first.publish(t, event("d"))
	first.publish(t, event("e"))
	// A worker claims "e" and dies before sending it.
	ids := first.box.enqueued()
	e, err := st.GetMessage(context.Background(), ids[4])
	if err != nil {
		t.Fatal(err)
	}
	e.Attempts++
	e.NextAttempt = c.Now().Add(40 * time.Second)
	if _, err := st.UpdateMessage(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got := first.counts(t); got[store.OutboxPending] != 4 || got[store.OutboxDelivered] != 1 {
		t.Fatalf("before the restart: %v, want 4 pending and 1 delivered", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	c.Advance(10 * time.Minute)
	st2 := openStore(t, path)
	t.Cleanup(func() { _ = st2.Close() })
	second := newEnvOn(t, st2, c, sec, route)
	second.deliver(t)
	c.Advance(time.Hour)
	if got := second.deliver(t); got != 0 {
		t.Errorf("a later round sent %d, want 0", got)
	}
	if got := second.counts(t); got[store.OutboxDelivered] != 5 || got[store.OutboxPending] != 0 {
		t.Errorf("after the restart: %v, want 5 delivered", got)
	}
	delivered := map[string]int{}
	for i, r := range rcv.Requests() {
		if i < 2 {
			continue // the two failed attempts
		}
		delivered[r.Header.Get(notify.HeaderDelivery)]++
	}
	if len(delivered) != 5 {
		t.Errorf("receiver accepted %d distinct messages, want 5: %v", len(delivered), delivered)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("message %s accepted %d times, want once", id, n)
		}
	}
}
