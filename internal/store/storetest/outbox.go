package storetest

import (
	"bytes"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/store"
)

// noDedup is a dedupSince for enqueues whose test is not about deduplication: long before base.
var noDedup = base.Add(-24 * time.Hour)

// message is a pending message as a caller enqueues it; tests change what they need.
func message(id, route, dedupKey string) store.OutboxMessage {
	return store.OutboxMessage{
		ID:          id,
		Route:       route,
		DedupKey:    dedupKey,
		Payload:     []byte(`{"text":"pool linux: 3 launches failed"}`),
		NextAttempt: base,
		CreatedAt:   base,
		UpdatedAt:   base,
	}
}

// msgOpts compare messages: an empty Payload may come back nil or empty (both have no bytes).
var msgOpts = cmpopts.EquateEmpty()

// enqueue stores m, failing the test unless it was stored; it returns m as stored.
func enqueue(t *testing.T, s store.Store, m store.OutboxMessage) store.OutboxMessage {
	t.Helper()
	ok, err := s.EnqueueMessage(t.Context(), m, noDedup)
	if err != nil || !ok {
		t.Fatalf("EnqueueMessage(%q): got %v, %v; want true, nil", m.ID, ok, err)
	}
	m.State, m.Version = store.OutboxPending, 1
	return m
}

// getMsg reads id and fails the test on error.
func getMsg(t *testing.T, s store.Store, id string) store.OutboxMessage {
	t.Helper()
	m, err := s.GetMessage(t.Context(), id)
	if err != nil {
		t.Fatalf("GetMessage(%q): %v", id, err)
	}
	return m
}

// counts returns CountMessages without zero entries: a state with no messages may be absent
// from the map or present with 0.
func counts(t *testing.T, s store.Store) map[store.OutboxState]int {
	t.Helper()
	got, err := s.CountMessages(t.Context())
	if err != nil {
		t.Fatalf("CountMessages: %v", err)
	}
	maps.DeleteFunc(got, func(_ store.OutboxState, n int) bool { return n == 0 })
	return got
}

// checkMsgUTC fails the test if any non-zero time of m is not in UTC.
func checkMsgUTC(t *testing.T, m store.OutboxMessage) {
	t.Helper()
	for field, v := range map[string]time.Time{
		"NextAttempt": m.NextAttempt, "CreatedAt": m.CreatedAt, "UpdatedAt": m.UpdatedAt,
		"DeliveredAt": m.DeliveredAt, "ExpiresAt": m.ExpiresAt,
	} {
		if !v.IsZero() && v.Location() != time.UTC {
			t.Errorf("%s of message %q: got location %v, want UTC", field, m.ID, v.Location())
		}
	}
}

func testOutboxEnqueueAndGet(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	west := time.FixedZone("UTC-7", -7*60*60)
	tests := []struct {
		name string
		in   func(m *store.OutboxMessage)
	}{
		{"as a caller enqueues it", func(*store.OutboxMessage) {}},
		{"every field set", func(m *store.OutboxMessage) {
			m.Attempts, m.LastError = 2, "HTTP 500 from receiver"
			m.NextAttempt = base.Add(90*time.Second + 125*time.Millisecond)
			m.UpdatedAt = base.Add(time.Second)
			m.DeliveredAt = base.Add(2 * time.Second)
			m.ExpiresAt = base.Add(7*24*time.Hour + 3*time.Millisecond)
		}},
		// Enqueued means pending: whatever State the caller left in m is not stored, nor Version.
		{"state and version ignored", func(m *store.OutboxMessage) { m.State, m.Version = store.OutboxDead, 9 }},
		{"times in another zone come back in UTC", func(m *store.OutboxMessage) {
			m.NextAttempt, m.CreatedAt, m.UpdatedAt = m.NextAttempt.In(west), m.CreatedAt.In(west), m.UpdatedAt.Local()
		}},
		{"zero times stay zero", func(m *store.OutboxMessage) {
			m.NextAttempt, m.CreatedAt, m.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
		}},
		{"no dedup key", func(m *store.OutboxMessage) { m.DedupKey = "" }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "msg-" + string(rune('a'+i))
			in := message(id, "ops-"+id, "key-"+id)
			tc.in(&in)
			ok, err := s.EnqueueMessage(t.Context(), in, noDedup)
			if err != nil || !ok {
				t.Fatalf("EnqueueMessage: got %v, %v; want true, nil", ok, err)
			}
			want := in
			want.State, want.Version = store.OutboxPending, 1
			got := getMsg(t, s, id)
			if diff := cmp.Diff(want, got, msgOpts); diff != "" {
				t.Errorf("GetMessage after EnqueueMessage (-want +got):\n%s", diff)
			}
			checkMsgUTC(t, got)
		})
	}
}

func testOutboxEnqueueDuplicateID(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	first := enqueue(t, s, message("msg-1", "ops", "k1"))
	// Another route and key, so deduplication cannot be what refuses it.
	for _, dup := range []store.OutboxMessage{message("msg-1", "other", "k2"), message("msg-1", "other", "")} {
		ok, err := s.EnqueueMessage(t.Context(), dup, noDedup)
		if !errors.Is(err, store.ErrConflict) || ok {
			t.Errorf("EnqueueMessage of an existing ID (route %q, key %q): got %v, %v; want false, ErrConflict", dup.Route, dup.DedupKey, ok, err)
		}
	}
	if diff := cmp.Diff(first, getMsg(t, s, "msg-1"), msgOpts); diff != "" {
		t.Errorf("message after duplicate enqueues (-want +got):\n%s", diff)
	}
}

func testOutboxEnqueueInvalid(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	for name, m := range map[string]store.OutboxMessage{
		"empty ID":    message("", "ops", "k"),
		"empty Route": message("msg-1", "", "k"),
	} {
		if ok, err := s.EnqueueMessage(t.Context(), m, noDedup); err == nil || ok {
			t.Errorf("EnqueueMessage with %s: got %v, %v; want false and an error", name, ok, err)
		}
	}
	if got := counts(t, s); len(got) != 0 {
		t.Errorf("CountMessages after rejected enqueues: got %v, want none", got)
	}
}

func testOutboxGetMissing(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	if _, err := s.GetMessage(t.Context(), "nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetMessage(missing): got %v, want ErrNotFound", err)
	}
}

// testOutboxPayload checks payloads come back byte for byte, through every read path.
func testOutboxPayload(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	every := make([]byte, 0, 512)
	for i := range 512 {
		every = append(every, byte(i)) // every byte value, twice
	}
	big := make([]byte, 16<<10)
	for i := range big {
		big[i] = byte(i*131 + i>>8) // deterministic, not text
	}
	payloads := map[string][]byte{
		"json":              []byte(`{"text":"ünïcode ✓","n":1}`),
		"invalid UTF-8":     {0xff, 0xfe, 'a', 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80},
		"NULs":              {0, 0, 'x', 0},
		"every byte":        every,
		"16 KiB":            big,
		"empty":             {},
		"nil":               nil,
		"trailing newlines": []byte("line\r\n\n"),
	}
	i := 0
	for name, p := range payloads {
		i++
		m := message("msg-"+string(rune('a'+i)), "ops", "")
		m.Payload = bytes.Clone(p)
		m.NextAttempt = base.Add(time.Duration(i) * time.Second)
		enqueue(t, s, m)
		got := getMsg(t, s, m.ID)
		if !bytes.Equal(got.Payload, p) {
			t.Errorf("payload %s: GetMessage got %d bytes %q, want %d bytes %q", name, len(got.Payload), trim(got.Payload), len(p), trim(p))
		}
		// An update with a new binary payload replaces it exactly too.
		got.Payload = append(bytes.Clone(p), 0xff)
		upd, err := s.UpdateMessage(t.Context(), got)
		if err != nil {
			t.Fatalf("UpdateMessage(%s): %v", name, err)
		}
		if want := append(bytes.Clone(p), 0xff); !bytes.Equal(upd.Payload, want) || !bytes.Equal(getMsg(t, s, m.ID).Payload, want) {
			t.Errorf("payload %s after UpdateMessage: got %q, want %q", name, trim(upd.Payload), trim(want))
		}
	}
	due, err := s.DueMessages(t.Context(), base.Add(time.Hour), 0)
	if err != nil {
		t.Fatalf("DueMessages: %v", err)
	}
	if len(due) != len(payloads) {
		t.Fatalf("DueMessages: got %d messages, want %d", len(due), len(payloads))
	}
	for _, m := range due {
		if want := getMsg(t, s, m.ID).Payload; !bytes.Equal(m.Payload, want) {
			t.Errorf("DueMessages payload of %s: got %q, want %q", m.ID, trim(m.Payload), trim(want))
		}
	}
}

// trim shortens a payload for an error message.
func trim(p []byte) []byte {
	if len(p) > 40 {
		return p[:40]
	}
	return p
}

func testOutboxCount(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	if got := counts(t, s); len(got) != 0 {
		t.Errorf("CountMessages of an empty outbox: got %v, want no messages", got)
	}
	finish := func(id string, state store.OutboxState) {
		m := getMsg(t, s, id)
		m.State = state
		if _, err := s.UpdateMessage(t.Context(), m); err != nil {
			t.Fatalf("UpdateMessage(%s to %s): %v", id, state, err)
		}
	}
	for _, id := range []string{"m1", "m2", "m3", "m4", "m5", "m6"} {
		enqueue(t, s, message(id, "ops", ""))
	}
	finish("m1", store.OutboxDelivered)
	finish("m2", store.OutboxDelivered)
	finish("m3", store.OutboxDead)
	want := map[store.OutboxState]int{store.OutboxPending: 3, store.OutboxDelivered: 2, store.OutboxDead: 1}
	if diff := cmp.Diff(want, counts(t, s)); diff != "" {
		t.Errorf("CountMessages (-want +got):\n%s", diff)
	}
	finish("m3", store.OutboxPending) // a dead message retried by hand
	want = map[store.OutboxState]int{store.OutboxPending: 4, store.OutboxDelivered: 2}
	if diff := cmp.Diff(want, counts(t, s)); diff != "" {
		t.Errorf("CountMessages after a dead message went back to pending (-want +got):\n%s", diff)
	}
}
