package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
)

// testOutboxDedup walks EnqueueMessage's deduplication rule step by step on one outbox.
func testOutboxDedup(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const route, key = "ops-slack", "pool linux: launches failing"
	at := func(d time.Duration) time.Time { return base.Add(d) }
	msg := func(id, route, key string, created time.Time) store.OutboxMessage {
		m := message(id, route, key)
		m.CreatedAt, m.UpdatedAt, m.NextAttempt = created, created, created
		return m
	}
	steps := []struct {
		name  string
		m     store.OutboxMessage
		since time.Time
		want  bool
	}{
		{"first of its kind", msg("m1", route, key, at(0)), at(-time.Hour), true},
		{"same alert within the window", msg("m2", route, key, at(time.Minute)), at(-time.Hour), false},
		{"window starts exactly at the earlier one", msg("m3", route, key, at(2*time.Minute)), at(0), false},
		{"zero dedupSince matches any earlier one", msg("m4", route, key, at(3*time.Minute)), time.Time{}, false},
		{"earlier one before the window", msg("m5", route, key, at(10*time.Minute)), at(time.Millisecond), true},
		{"now the later one is in the window", msg("m6", route, key, at(11*time.Minute)), at(time.Millisecond), false},
		{"other route, same key", msg("m7", "ops-teams", key, at(11*time.Minute)), at(-time.Hour), true},
		{"same route, other key", msg("m8", route, key+" (eu)", at(11*time.Minute)), at(-time.Hour), true},
		{"key differs only in case", msg("m9", route, "Pool linux: launches failing", at(11*time.Minute)), at(-time.Hour), true},
		{"empty key never dedups", msg("m10", route, "", at(12*time.Minute)), time.Time{}, true},
		{"empty key never dedups, again", msg("m11", route, "", at(12*time.Minute)), time.Time{}, true},
		// A backend that joins Route and DedupKey into one string must not make these collide.
		{"joined key a|b + c", msg("m12", "a|b", "c", at(0)), time.Time{}, true},
		{"joined key a + b|c", msg("m13", "a", "b|c", at(0)), time.Time{}, true},
		{"joined key a#b + c", msg("m14", "a#b", "c", at(0)), time.Time{}, true},
		{"joined key a + b#c", msg("m15", "a", "b#c", at(0)), time.Time{}, true},
	}
	stored := map[string]store.OutboxMessage{}
	for _, st := range steps {
		ok, err := s.EnqueueMessage(t.Context(), st.m, st.since)
		if err != nil {
			t.Fatalf("%s: EnqueueMessage(%s): %v", st.name, st.m.ID, err)
		}
		if ok != st.want {
			t.Errorf("%s: EnqueueMessage(%s, since %s): got %v, want %v", st.name, st.m.ID, st.since.Format(time.RFC3339Nano), ok, st.want)
		}
		if st.want {
			st.m.State, st.m.Version = store.OutboxPending, 1
			stored[st.m.ID] = st.m
		}
	}
	// A deduplicated enqueue stores nothing.
	for _, st := range steps {
		want, kept := stored[st.m.ID]
		got, err := s.GetMessage(t.Context(), st.m.ID)
		switch {
		case !kept && !errors.Is(err, store.ErrNotFound):
			t.Errorf("GetMessage(%s) after a deduplicated enqueue: got %v, want ErrNotFound", st.m.ID, err)
		case kept && err != nil:
			t.Errorf("GetMessage(%s): %v", st.m.ID, err)
		case kept:
			if diff := cmp.Diff(want, got, msgOpts); diff != "" {
				t.Errorf("message %s (-want +got):\n%s", st.m.ID, diff)
			}
		}
	}
	if diff := cmp.Diff(map[store.OutboxState]int{store.OutboxPending: len(stored)}, counts(t, s)); diff != "" {
		t.Errorf("CountMessages (-want +got):\n%s", diff)
	}

	// A message counts whatever its state: an alert delivered a minute ago still suppresses its
	// duplicate, and so does one given up on.
	for _, id := range []string{"m5", "m7"} {
		m := getMsg(t, s, id)
		m.State = map[string]store.OutboxState{"m5": store.OutboxDelivered, "m7": store.OutboxDead}[id]
		if _, err := s.UpdateMessage(t.Context(), m); err != nil {
			t.Fatalf("UpdateMessage(%s): %v", id, err)
		}
	}
	for _, m := range []store.OutboxMessage{msg("m16", route, key, at(20*time.Minute)), msg("m17", "ops-teams", key, at(20*time.Minute))} {
		if ok, err := s.EnqueueMessage(t.Context(), m, at(5*time.Minute)); err != nil || ok {
			t.Errorf("EnqueueMessage(%s) while a finished duplicate is in the window: got %v, %v; want false, nil", m.ID, ok, err)
		}
	}
}

// testOutboxDedupConcurrent races goroutines enqueueing the same alert under different IDs:
// exactly one is stored.
func testOutboxDedupConcurrent(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const racers, rounds = 20, 3
	for round := range rounds {
		key := fmt.Sprintf("alert-%d", round)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		start := make(chan struct{})
		for r := range racers {
			wg.Go(func() {
				m := message(fmt.Sprintf("%s-racer-%d", key, r), "ops", key)
				<-start
				ok, err := s.EnqueueMessage(t.Context(), m, noDedup)
				if err != nil {
					t.Errorf("EnqueueMessage(%s): %v", m.ID, err)
					return
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if wins != 1 {
			t.Errorf("%s: %d of %d concurrent enqueues were stored, want exactly 1", key, wins, racers)
		}
	}
	if diff := cmp.Diff(map[store.OutboxState]int{store.OutboxPending: rounds}, counts(t, s)); diff != "" {
		t.Errorf("CountMessages after the races (-want +got):\n%s", diff)
	}
}

func testOutboxDue(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	seed := []struct {
		id    string
		next  time.Time
		state store.OutboxState
	}{
		{"later", at(time.Millisecond), store.OutboxPending},
		{"mid", at(-time.Minute), store.OutboxPending},
		{"delivered", at(-3 * time.Minute), store.OutboxDelivered},
		{"at-now", at(0), store.OutboxPending},
		{"zero", time.Time{}, store.OutboxPending}, // never scheduled: due at once, before everything
		{"dead", at(-3 * time.Minute), store.OutboxDead},
		{"early", at(-2 * time.Minute), store.OutboxPending},
		{"far", at(30 * 24 * time.Hour), store.OutboxPending},
	}
	stored := map[string]store.OutboxMessage{}
	for i, sd := range seed {
		m := message(sd.id, "ops", "")
		m.NextAttempt = sd.next
		m.CreatedAt = at(time.Duration(-i) * time.Second) // creation order is not due order
		stored[sd.id] = enqueue(t, s, m)
		if sd.state != store.OutboxPending {
			m := stored[sd.id]
			m.State = sd.state
			upd, err := s.UpdateMessage(t.Context(), m)
			if err != nil {
				t.Fatalf("UpdateMessage(%s): %v", sd.id, err)
			}
			stored[sd.id] = upd
		}
	}
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"due now, no limit", at(0), 0, []string{"zero", "early", "mid", "at-now"}},
		{"negative limit is no limit", at(0), -1, []string{"zero", "early", "mid", "at-now"}},
		{"limit", at(0), 2, []string{"zero", "early"}},
		{"limit of one", at(0), 1, []string{"zero"}},
		{"limit above count", at(0), 50, []string{"zero", "early", "mid", "at-now"}},
		{"earlier now", at(-90 * time.Second), 0, []string{"zero", "early"}},
		{"a millisecond later", at(time.Millisecond), 0, []string{"zero", "early", "mid", "at-now", "later"}},
		{"long before", at(-24 * time.Hour), 0, []string{"zero"}},
		{"everything pending", at(365 * 24 * time.Hour), 0, []string{"zero", "early", "mid", "at-now", "later", "far"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.DueMessages(t.Context(), tc.now, tc.limit)
			if err != nil {
				t.Fatalf("DueMessages(%s, %d): %v", tc.now.Format(time.RFC3339Nano), tc.limit, err)
			}
			var want []store.OutboxMessage
			for _, id := range tc.want {
				want = append(want, stored[id])
			}
			if diff := cmp.Diff(want, got, msgOpts); diff != "" {
				t.Errorf("DueMessages(%s, %d) in order (-want +got):\n%s", tc.now.Format(time.RFC3339Nano), tc.limit, diff)
			}
			for _, m := range got {
				checkMsgUTC(t, m)
			}
		})
	}
}

// testOutboxUpdate follows one message through a delivery worker's writes.
func testOutboxUpdate(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	cur := enqueue(t, s, message("msg-1", "ops", "k"))
	for i, step := range []func(*store.OutboxMessage){
		func(m *store.OutboxMessage) { // claimed: pushed forward so other workers skip it
			m.NextAttempt, m.Attempts = base.Add(30*time.Second), 1
		},
		func(m *store.OutboxMessage) { // failed: retry later
			m.LastError, m.NextAttempt = "HTTP 503 from receiver", base.Add(time.Minute+500*time.Millisecond)
		},
		func(m *store.OutboxMessage) { // delivered: clearing fields must stick
			m.State, m.Attempts, m.LastError = store.OutboxDelivered, 2, ""
			m.DeliveredAt, m.ExpiresAt = base.Add(2*time.Minute), base.Add(7*24*time.Hour)
		},
		func(m *store.OutboxMessage) { // and a cleared time stays zero
			m.DeliveredAt, m.ExpiresAt, m.NextAttempt = time.Time{}, time.Time{}, time.Time{}
		},
	} {
		next := cur
		step(&next)
		next.UpdatedAt = base.Add(time.Duration(i+1) * time.Second)
		got, err := s.UpdateMessage(t.Context(), next)
		if err != nil {
			t.Fatalf("UpdateMessage step %d: %v", i, err)
		}
		want := next
		want.Version = cur.Version + 1
		if diff := cmp.Diff(want, got, msgOpts); diff != "" {
			t.Errorf("UpdateMessage step %d returned (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(got, getMsg(t, s, "msg-1"), msgOpts); diff != "" {
			t.Errorf("GetMessage after step %d differs from what UpdateMessage returned (-returned +read):\n%s", i, diff)
		}
		checkMsgUTC(t, got)
		cur = got
	}
	// Delivered is not due, however late it is.
	if due, err := s.DueMessages(t.Context(), base.Add(time.Hour), 0); err != nil || len(due) != 0 {
		t.Errorf("DueMessages after delivery: got %d messages, %v; want none", len(due), err)
	}
}

func testOutboxUpdateStaleOrMissing(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	v1 := enqueue(t, s, message("msg-1", "ops", "k"))
	moved := v1
	moved.Attempts = 1
	v2, err := s.UpdateMessage(t.Context(), moved)
	if err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	for _, version := range []int64{0, 1, 3, 99} {
		stale := v1
		stale.Version, stale.State, stale.LastError = version, store.OutboxDead, "stale writer"
		if _, err := s.UpdateMessage(t.Context(), stale); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateMessage with version %d (stored 2): got %v, want ErrConflict", version, err)
		}
	}
	if diff := cmp.Diff(v2, getMsg(t, s, "msg-1"), msgOpts); diff != "" {
		t.Errorf("message after stale updates (-want +got):\n%s", diff)
	}
	ghost := message("ghost", "ops", "")
	ghost.State, ghost.Version = store.OutboxPending, 1
	if _, err := s.UpdateMessage(t.Context(), ghost); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateMessage(never enqueued): got %v, want ErrNotFound", err)
	}
	if _, err := s.GetMessage(t.Context(), "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMessage after UpdateMessage of a missing message: got %v, want ErrNotFound (an update must not create)", err)
	}
}

// testOutboxClaimRace has delivery workers claim the same due message by pushing NextAttempt
// forward at the version they read: exactly one claims it.
func testOutboxClaimRace(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const workers = 8
	enqueue(t, s, message("msg-1", "ops", ""))
	due, err := s.DueMessages(t.Context(), base, 1)
	if err != nil || len(due) != 1 {
		t.Fatalf("DueMessages: got %d, %v; want 1 message", len(due), err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []store.OutboxMessage
	)
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			claim := due[0]
			claim.NextAttempt = base.Add(time.Duration(w+1) * time.Minute)
			claim.Attempts++
			<-start
			got, err := s.UpdateMessage(t.Context(), claim)
			switch {
			case errors.Is(err, store.ErrConflict):
			case err != nil:
				t.Errorf("worker %d: UpdateMessage: %v", w, err)
			default:
				mu.Lock()
				winners = append(winners, got)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d of %d workers claimed the message, want exactly 1", len(winners), workers)
	}
	if diff := cmp.Diff(winners[0], getMsg(t, s, "msg-1"), msgOpts); diff != "" {
		t.Errorf("stored message is not the winner's claim (-winner +stored):\n%s", diff)
	}
	if got, err := s.DueMessages(t.Context(), base, 0); err != nil || len(got) != 0 {
		t.Errorf("DueMessages after the claim: got %d, %v; want none (it is claimed)", len(got), err)
	}
}

// testOutboxReopen checks pending messages and the dedup window survive a restart.
func testOutboxReopen(t *testing.T, h *harness) {
	s, key := h.fresh(t)
	ctx := t.Context()
	pending := enqueue(t, s, message("msg-1", "ops", "alert"))
	pending.Payload = []byte{0xff, 0x00, 0xfe}
	done := enqueue(t, s, message("msg-2", "ops", ""))
	done.State, done.DeliveredAt = store.OutboxDelivered, base.Add(time.Second)
	done, err := s.UpdateMessage(ctx, done)
	if err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	pending, err = s.UpdateMessage(ctx, pending)
	if err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}

	s = h.reopen(t, s, key)

	for _, want := range []store.OutboxMessage{pending, done} {
		if diff := cmp.Diff(want, getMsg(t, s, want.ID), msgOpts); diff != "" {
			t.Errorf("message %s after reopen (-want +got):\n%s", want.ID, diff)
		}
	}
	due, err := s.DueMessages(ctx, base, 0)
	if err != nil || len(due) != 1 || due[0].ID != "msg-1" {
		t.Errorf("DueMessages after reopen: got %v, %v; want msg-1 alone", due, err)
	}
	if ok, err := s.EnqueueMessage(ctx, message("msg-3", "ops", "alert"), noDedup); err != nil || ok {
		t.Errorf("EnqueueMessage of a duplicate alert after reopen: got %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.EnqueueMessage(ctx, message("msg-2", "other", ""), noDedup); !errors.Is(err, store.ErrConflict) || ok {
		t.Errorf("EnqueueMessage of an existing ID after reopen: got %v, %v; want false, ErrConflict", ok, err)
	}
	stale := pending
	stale.Version--
	if _, err := s.UpdateMessage(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale UpdateMessage after reopen: got %v, want ErrConflict", err)
	}
	want := map[store.OutboxState]int{store.OutboxPending: 1, store.OutboxDelivered: 1}
	if diff := cmp.Diff(want, counts(t, s)); diff != "" {
		t.Errorf("CountMessages after reopen (-want +got):\n%s", diff)
	}
}

// testOutboxCanceledContext checks every outbox method gives up on a canceled context.
func testOutboxCanceledContext(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	kept := enqueue(t, s, message("msg-1", "ops", "k"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	upd := kept
	upd.State = store.OutboxDelivered
	calls := map[string]func() error{
		"EnqueueMessage": func() error {
			_, err := s.EnqueueMessage(ctx, message("msg-2", "ops", "other"), noDedup)
			return err
		},
		"DueMessages":   func() error { _, err := s.DueMessages(ctx, base, 0); return err },
		"GetMessage":    func() error { _, err := s.GetMessage(ctx, "msg-1"); return err },
		"UpdateMessage": func() error { _, err := s.UpdateMessage(ctx, upd); return err },
		"CountMessages": func() error { _, err := s.CountMessages(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want context.Canceled", name, err)
		}
	}
	if diff := cmp.Diff(kept, getMsg(t, s, "msg-1"), msgOpts); diff != "" {
		t.Errorf("msg-1 after canceled calls (-want +got):\n%s", diff)
	}
	if _, err := s.GetMessage(t.Context(), "msg-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("msg-2 after a canceled EnqueueMessage: got %v, want ErrNotFound", err)
	}
}
