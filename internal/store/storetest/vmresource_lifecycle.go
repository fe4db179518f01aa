package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
)

// testVMReopen writes VM records through one store, closes it, and checks a new store on the
// same backing data sees them and keeps enforcing the same rules.
func testVMReopen(t *testing.T, h *harness) {
	s, key := h.fresh(t)
	ctx := t.Context()
	kept := createVM(t, s, vmRecord("i-0kept", "alpha", "prod", store.VMLaunching))
	kept.State, kept.ResourceID = store.VMRegistered, 555
	kept, err := s.UpdateVM(ctx, kept)
	if err != nil {
		t.Fatalf("UpdateVM: %v", err)
	}
	bare := createVM(t, s, store.VMRecord{InstanceID: "i-0bare", State: store.VMLaunching})

	s = h.reopen(t, s, key)

	for _, want := range []store.VMRecord{kept, bare} {
		if diff := cmp.Diff(want, getVM(t, s, want.InstanceID)); diff != "" {
			t.Errorf("VM %q after reopen (-want +got):\n%s", want.InstanceID, diff)
		}
	}
	if err := s.CreateVM(ctx, vmRecord("i-0kept", "alpha", "prod", store.VMLaunching)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateVM of an existing id after reopen: got %v, want ErrConflict", err)
	}
	stale := kept
	stale.Version--
	if _, err := s.UpdateVM(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale UpdateVM after reopen: got %v, want ErrConflict", err)
	}
	kept.State = store.VMTerminating
	if got, err := s.UpdateVM(ctx, kept); err != nil || got.Version != 3 {
		t.Errorf("UpdateVM after reopen: got version %d, err %v; want 3, nil", got.Version, err)
	}
	got, err := s.ListVMs(ctx, store.VMFilter{Project: "alpha", States: []store.VMState{store.VMTerminating}})
	if err != nil || len(got) != 1 || got[0].InstanceID != "i-0kept" {
		t.Errorf("ListVMs after reopen: got %v, %v; want i-0kept alone", got, err)
	}
}

// testVMConcurrentUpdates races writers that all read the same version: in every round exactly
// one UpdateVM wins, every other gets ErrConflict, and the winner's write is what is stored.
func testVMConcurrentUpdates(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const writers, rounds = 8, 5
	createVM(t, s, vmRecord("i-0race", "alpha", "prod", store.VMLaunching))
	for round := range rounds {
		cur := getVM(t, s, "i-0race")
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []store.VMRecord
		)
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				next := cur
				next.Reason = fmt.Sprintf("round %d writer %d", round, w)
				next.AgentID = w
				<-start
				got, err := s.UpdateVM(t.Context(), next)
				switch {
				case errors.Is(err, store.ErrConflict):
				case err != nil:
					t.Errorf("round %d writer %d: UpdateVM: %v", round, w, err)
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
			t.Fatalf("round %d: %d of %d writers of version %d won, want exactly 1", round, len(winners), writers, cur.Version)
		}
		if want := cur.Version + 1; winners[0].Version != want {
			t.Errorf("round %d: winner got version %d, want %d", round, winners[0].Version, want)
		}
		if diff := cmp.Diff(winners[0], getVM(t, s, "i-0race")); diff != "" {
			t.Errorf("round %d: stored record is not the winner's (-winner +stored):\n%s", round, diff)
		}
	}
}

// testVMCanceledContext checks every VM method gives up on a canceled context and says why.
func testVMCanceledContext(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	kept := createVM(t, s, vmRecord("i-0one", "alpha", "prod", store.VMLaunching))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	upd := kept
	upd.State = store.VMRegistered
	calls := map[string]func() error{
		"CreateVM": func() error { return s.CreateVM(ctx, vmRecord("i-0two", "alpha", "prod", store.VMLaunching)) },
		"GetVM":    func() error { _, err := s.GetVM(ctx, "i-0one"); return err },
		"UpdateVM": func() error { _, err := s.UpdateVM(ctx, upd); return err },
		"ListVMs":  func() error { _, err := s.ListVMs(ctx, store.VMFilter{Project: "alpha"}); return err },
		"DeleteVM": func() error { return s.DeleteVM(ctx, "i-0one") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want context.Canceled", name, err)
		}
	}
	// Nothing a canceled call attempted took effect.
	if diff := cmp.Diff(kept, getVM(t, s, "i-0one")); diff != "" {
		t.Errorf("i-0one after canceled calls (-want +got):\n%s", diff)
	}
	if _, err := s.GetVM(t.Context(), "i-0two"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("i-0two after a canceled CreateVM: got %v, want ErrNotFound", err)
	}
}
