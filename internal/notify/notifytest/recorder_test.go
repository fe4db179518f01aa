package notifytest_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
)

func ev(t notify.EventType, pool string) notify.Event {
	return notify.Event{Type: t, Pool: pool, Summary: string(t) + " in " + pool}
}

func TestRecorderKeepsEventsInOrder(t *testing.T) {
	t.Parallel()
	var r notifytest.Recorder
	if got := r.Events(); got != nil {
		t.Errorf("Events before any Publish: got %v, want nil", got)
	}
	var p notify.Publisher = &r
	in := []notify.Event{ev(notify.PoolAtMax, "a"), ev(notify.AgentStartFailed, "a"), ev(notify.PoolAtMax, "b")}
	for _, e := range in {
		if err := p.Publish(t.Context(), e); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	if diff := cmp.Diff(in, r.Events()); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]notify.Event{in[0], in[2]}, r.Of(notify.PoolAtMax)); diff != "" {
		t.Errorf("Of(PoolAtMax) (-want +got):\n%s", diff)
	}
	if got := r.Of(notify.OrphanTerminated); got != nil {
		t.Errorf("Of a type never published: got %v, want nil", got)
	}
	for typ, want := range map[notify.EventType]int{notify.PoolAtMax: 2, notify.AgentStartFailed: 1, notify.RunCompleted: 0} {
		if got := r.Count(typ); got != want {
			t.Errorf("Count(%s): got %d, want %d", typ, got, want)
		}
	}
}

func TestRecorderEventsIsASnapshot(t *testing.T) {
	t.Parallel()
	var r notifytest.Recorder
	_ = r.Publish(t.Context(), ev(notify.PoolAtMax, "a"))
	snap := r.Events()
	snap[0].Pool = "edited"
	_ = r.Publish(t.Context(), ev(notify.PoolAtMax, "b"))
	if len(snap) != 1 {
		t.Errorf("snapshot grew to %d events after a later Publish, want 1", len(snap))
	}
	if got := r.Events()[0].Pool; got != "a" {
		t.Errorf("recorded pool after editing the snapshot: got %q, want %q", got, "a")
	}
}

func TestRecorderFail(t *testing.T) {
	t.Parallel()
	var r notifytest.Recorder
	boom := errors.New("outbox: database is locked")
	r.Fail(boom)
	if err := r.Publish(t.Context(), ev(notify.RunCompleted, "")); !errors.Is(err, boom) {
		t.Errorf("Publish while failing: got %v, want %v", err, boom)
	}
	if got := r.Events(); got != nil {
		t.Errorf("Events after a failed Publish: got %v, want nil", got)
	}
	r.Fail(nil)
	if err := r.Publish(t.Context(), ev(notify.RunCompleted, "")); err != nil {
		t.Errorf("Publish after Fail(nil): %v", err)
	}
	if got := r.Count(notify.RunCompleted); got != 1 {
		t.Errorf("Count after recovering: got %d, want 1", got)
	}
}

func TestRecorderConcurrentPublish(t *testing.T) {
	t.Parallel()
	var r notifytest.Recorder
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				_ = r.Publish(context.Background(), ev(notify.APIThrottled, "p"))
				_ = r.Events()
			}
		})
	}
	wg.Wait()
	if got := r.Count(notify.APIThrottled); got != writers*each {
		t.Errorf("Count: got %d, want %d", got, writers*each)
	}
}
