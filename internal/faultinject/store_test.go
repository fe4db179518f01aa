package faultinject_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/faultinject"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestStoreWriteFailsBeforeOrAfter checks that a failed write took effect exactly when the fault
// came after it, and that what was written is what the caller asked for.
func TestStoreWriteFailsBeforeOrAfter(t *testing.T) {
	t.Parallel()
	base := openStore(t)
	in := faultinject.New(9, faultinject.Rates{StoreWriteFail: 0.5})
	st := in.Store(base)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 80 {
		rec := store.AgentRecord{Name: fmt.Sprintf("a%d", i), Pool: "p", State: store.StateLaunching, CreatedAt: now, UpdatedAt: now}
		afterBefore := in.Counts()[faultinject.FaultStoreAfter]
		err := st.CreateAgent(ctx, rec)
		if err != nil && !errors.Is(err, faultinject.ErrInjected) {
			t.Fatalf("CreateAgent %s: %v", rec.Name, err)
		}
		got, gerr := base.GetAgent(ctx, rec.Name)
		wantStored := err == nil || in.Counts()[faultinject.FaultStoreAfter] > afterBefore
		if stored := gerr == nil; stored != wantStored {
			t.Errorf("CreateAgent %s (err %v): stored = %v, want %v", rec.Name, err, stored, wantStored)
		}
		if gerr == nil && (got.Pool != rec.Pool || got.State != rec.State) {
			t.Errorf("stored %s = %+v, want what was written", rec.Name, got)
		}
	}
	c := in.Counts()
	if c[faultinject.FaultStoreBefore] == 0 || c[faultinject.FaultStoreAfter] == 0 {
		t.Errorf("want both kinds of store failure in 80 writes, got %v", c)
	}
	// Reads pass through untouched.
	in.SetEnabled(true)
	if _, err := st.ListAgents(ctx, "p"); err != nil {
		t.Errorf("ListAgents through the wrapper: %v", err)
	}
}

func TestStoreClaimCallbackAfterFaultIsClaimed(t *testing.T) {
	t.Parallel()
	base := openStore(t)
	in := faultinject.New(4, faultinject.Rates{StoreWriteFail: 1})
	st := in.Store(base)
	ctx := context.Background()
	for i := range 20 {
		key := store.CallbackKey{PlanID: "plan", JobID: "job", TaskInstanceID: fmt.Sprint(i)}
		afterBefore := in.Counts()[faultinject.FaultStoreAfter]
		claimed, err := st.ClaimCallback(ctx, key, "succeeded", time.Now())
		if claimed || !errors.Is(err, faultinject.ErrInjected) {
			t.Fatalf("ClaimCallback %d = %v, %v; want false and ErrInjected", i, claimed, err)
		}
		after := in.Counts()[faultinject.FaultStoreAfter] > afterBefore
		again, err := base.ClaimCallback(ctx, key, "succeeded", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if again == after {
			t.Errorf("claim %d: the fault came after the write = %v, but a second claim returned %v", i, after, again)
		}
	}
}

// TestLeaseWriteFailsBeforeOrAfter checks lease faults: a failed acquire took the lease exactly
// when the fault came after the write, and the other store writes draw nothing from the lease
// stream (their faults are the same with and without lease faults).
func TestLeaseWriteFailsBeforeOrAfter(t *testing.T) {
	t.Parallel()
	base := openStore(t)
	in := faultinject.New(5, faultinject.Rates{LeaseWriteFail: 0.5})
	st := in.Store(base)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 60 {
		name := fmt.Sprintf("lease-%d", i)
		afterBefore := in.Counts()[faultinject.FaultLeaseAfter]
		_, err := st.AcquireLease(ctx, name, "a", time.Minute, now)
		if err != nil && !errors.Is(err, faultinject.ErrInjected) {
			t.Fatalf("AcquireLease %s: %v", name, err)
		}
		taken := err == nil || in.Counts()[faultinject.FaultLeaseAfter] > afterBefore
		// Another holder gets the lease exactly when the first acquire did not take it.
		_, berr := base.AcquireLease(ctx, name, "b", time.Minute, now)
		if gotTaken := errors.Is(berr, store.ErrConflict); gotTaken != taken {
			t.Errorf("lease %s (acquire err %v): held by a = %v, want %v", name, err, gotTaken, taken)
		}
	}
	c := in.Counts()
	if c[faultinject.FaultLeaseBefore] == 0 || c[faultinject.FaultLeaseAfter] == 0 {
		t.Errorf("want both kinds of lease failure in 60 acquires, got %v", c)
	}
	if c[faultinject.FaultStoreBefore]+c[faultinject.FaultStoreAfter] != 0 {
		t.Errorf("lease writes counted as store faults: %v", c)
	}
}

// TestLeaseFaultsOffByDefault checks that storefail alone never fails a lease write.
func TestLeaseFaultsOffByDefault(t *testing.T) {
	t.Parallel()
	st := faultinject.New(6, faultinject.Rates{StoreWriteFail: 1}).Store(openStore(t))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		if _, err := st.AcquireLease(context.Background(), fmt.Sprint("l", i), "a", time.Minute, now); err != nil {
			t.Fatalf("AcquireLease with storefail=1 and leasefail=0: %v", err)
		}
	}
}
