package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
)

// testReopen writes through one store, closes it, and checks a new store on the same backing
// data sees everything and keeps enforcing the same rules.
func testReopen(t *testing.T, h *harness) {
	s, key := h.fresh(t)
	ctx := t.Context()
	kept := create(t, s, record("agent-1", "linux", store.StateLaunching))
	kept.State = store.StateLaunched
	kept, err := s.UpdateAgent(ctx, kept)
	if err != nil {
		t.Fatalf("UpdateAgent: %v", err)
	}
	d := store.Decision{Time: base, Pool: "linux", Action: "launch", Target: "1", Reason: "1 queued job"}
	if err := s.AppendDecision(ctx, d); err != nil {
		t.Fatalf("AppendDecision: %v", err)
	}
	cb := store.CallbackKey{PlanID: "plan", JobID: "job", TaskInstanceID: "task"}
	if ok, err := s.ClaimCallback(ctx, cb, "succeeded", base); err != nil || !ok {
		t.Fatalf("ClaimCallback before reopen: got %v, %v; want true, nil", ok, err)
	}

	s = h.reopen(t, s, key)

	if diff := cmp.Diff(kept, get(t, s, "agent-1")); diff != "" {
		t.Errorf("agent after reopen (-want +got):\n%s", diff)
	}
	ds, err := s.ListDecisions(ctx, "", 10)
	if err != nil {
		t.Fatalf("ListDecisions after reopen: %v", err)
	}
	if diff := cmp.Diff([]store.Decision{d}, ds); diff != "" {
		t.Errorf("decisions after reopen (-want +got):\n%s", diff)
	}
	if ok, err := s.ClaimCallback(ctx, cb, "succeeded", base); err != nil || ok {
		t.Errorf("ClaimCallback after reopen: got %v, %v; want false, nil", ok, err)
	}
	if err := s.CreateAgent(ctx, record("agent-1", "linux", store.StateLaunching)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateAgent of an existing name after reopen: got %v, want ErrConflict", err)
	}
	stale := kept
	stale.Version--
	if _, err := s.UpdateAgent(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale UpdateAgent after reopen: got %v, want ErrConflict", err)
	}
	kept.State = store.StateRegistered
	if got, err := s.UpdateAgent(ctx, kept); err != nil || got.Version != 3 {
		t.Errorf("UpdateAgent after reopen: got version %d, err %v; want 3, nil", got.Version, err)
	}
}

// testConcurrentUpdates has writers increment a counter field by read-modify-write, retrying on
// ErrConflict; every increment must survive.
func testConcurrentUpdates(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const writers, each = 6, 15
	r := record("counter", "linux", store.StateRegistered)
	r.JobRequestID = 0
	create(t, s, r)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < each; {
				cur, err := s.GetAgent(t.Context(), "counter")
				if err != nil {
					t.Errorf("writer %d: GetAgent: %v", w, err)
					return
				}
				cur.JobRequestID++
				_, err = s.UpdateAgent(t.Context(), cur)
				switch {
				case errors.Is(err, store.ErrConflict):
					continue // somebody else won; read again
				case err != nil:
					t.Errorf("writer %d: UpdateAgent: %v", w, err)
					return
				}
				i++
			}
		})
	}
	wg.Wait()
	got := get(t, s, "counter")
	if want := int64(writers * each); got.JobRequestID != want {
		t.Errorf("counter: got %d, want %d (an update was lost)", got.JobRequestID, want)
	}
	if want := int64(writers*each + 1); got.Version != want {
		t.Errorf("version: got %d, want %d", got.Version, want)
	}
}

// testCanceledContext checks every method gives up on a canceled context and says why.
func testCanceledContext(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	create(t, s, record("agent-1", "linux", store.StateLaunching))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := record("agent-1", "linux", store.StateLaunched)
	r.Version = 1
	calls := map[string]func() error{
		"CreateAgent": func() error { return s.CreateAgent(ctx, record("agent-2", "linux", store.StateLaunching)) },
		"GetAgent":    func() error { _, err := s.GetAgent(ctx, "agent-1"); return err },
		"UpdateAgent": func() error { _, err := s.UpdateAgent(ctx, r); return err },
		"ListAgents":  func() error { _, err := s.ListAgents(ctx, "linux"); return err },
		"DeleteAgent": func() error { return s.DeleteAgent(ctx, "agent-1") },
		"AppendDecision": func() error {
			return s.AppendDecision(ctx, store.Decision{Time: base, Pool: "linux", Action: "launch"})
		},
		"ListDecisions": func() error { _, err := s.ListDecisions(ctx, "", 10); return err },
		"ClaimCallback": func() error {
			_, err := s.ClaimCallback(ctx, store.CallbackKey{PlanID: "p", JobID: "j", TaskInstanceID: "t"}, "succeeded", base)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want context.Canceled", name, err)
		}
	}
	// Nothing a canceled call attempted took effect.
	if got := get(t, s, "agent-1"); got.Version != 1 || got.State != store.StateLaunching {
		t.Errorf("agent-1 after canceled calls: got version %d state %s, want 1 launching", got.Version, got.State)
	}
	if _, err := s.GetAgent(t.Context(), "agent-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("agent-2 after a canceled CreateAgent: got %v, want ErrNotFound", err)
	}
	ok, err := s.ClaimCallback(t.Context(), store.CallbackKey{PlanID: "p", JobID: "j", TaskInstanceID: "t"}, "succeeded", base)
	if err != nil || !ok {
		t.Errorf("ClaimCallback after a canceled claim: got %v, %v; want true, nil", ok, err)
	}
}
