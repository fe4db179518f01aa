package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
)

// leaseTTL is the lease duration the lease subtests use.
const leaseTTL = 15 * time.Second

// acquire takes or renews lease name for holder at now and fails the test on error.
func acquire(t *testing.T, s store.Store, name, holder string, now time.Time) store.Lease {
	t.Helper()
	l, err := s.AcquireLease(t.Context(), name, holder, leaseTTL, now)
	if err != nil {
		t.Fatalf("AcquireLease(%q, %q, %v): %v", name, holder, now, err)
	}
	return l
}

// conflict tries to take lease name for holder at now and fails the test unless the lease stands
// as want (ErrConflict, and the standing lease returned).
func conflict(t *testing.T, s store.Store, name, holder string, now time.Time, want store.Lease) {
	t.Helper()
	got, err := s.AcquireLease(t.Context(), name, holder, leaseTTL, now)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AcquireLease(%q, %q, %v): got error %v, want ErrConflict", name, holder, now, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AcquireLease(%q, %q) conflict: standing lease (-want +got):\n%s", name, holder, diff)
	}
}

func wantLease(t *testing.T, what string, got, want store.Lease) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
	if got.Expires.Location() != time.UTC {
		t.Errorf("%s: Expires in %v, want UTC", what, got.Expires.Location())
	}
}

func testLeaseAcquire(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	got := acquire(t, s, "ctl", "a", base)
	wantLease(t, "first AcquireLease", got, store.Lease{Name: "ctl", Holder: "a", Token: 1, Expires: base.Add(leaseTTL)})
	// Names are independent leases, each with its own token.
	other := acquire(t, s, "other", "b", base)
	wantLease(t, "AcquireLease of another name", other, store.Lease{Name: "other", Holder: "b", Token: 1, Expires: base.Add(leaseTTL)})
	for _, bad := range [][2]string{{"", "a"}, {"ctl", ""}} {
		if _, err := s.AcquireLease(t.Context(), bad[0], bad[1], leaseTTL, base); err == nil {
			t.Errorf("AcquireLease(%q, %q): got nil error, want one", bad[0], bad[1])
		}
	}
}

// testLeaseRenew: the holder renews at any time, even past expiry, keeping its token.
func testLeaseRenew(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	acquire(t, s, "ctl", "a", base)
	for _, at := range []time.Time{base.Add(5 * time.Second), base.Add(time.Minute)} {
		got := acquire(t, s, "ctl", "a", at)
		wantLease(t, fmt.Sprintf("renewal at %v", at), got, store.Lease{Name: "ctl", Holder: "a", Token: 1, Expires: at.Add(leaseTTL)})
	}
}

// testLeaseConflict: another holder cannot take an unexpired lease, and learns who holds it.
func testLeaseConflict(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	held := acquire(t, s, "ctl", "a", base)
	conflict(t, s, "ctl", "b", base.Add(leaseTTL-time.Millisecond), held)
	// The failed attempt changed nothing: a renews with its token.
	got := acquire(t, s, "ctl", "a", base.Add(time.Second))
	wantLease(t, "renewal after a conflict", got, store.Lease{Name: "ctl", Holder: "a", Token: 1, Expires: base.Add(time.Second + leaseTTL)})
}

// testLeaseTakeover: at expiry another holder takes the lease with the next token, and the old
// holder then conflicts.
func testLeaseTakeover(t *testing.T, h *harness) {
	s, key := h.fresh(t)
	acquire(t, s, "ctl", "a", base)
	at := base.Add(leaseTTL) // expired at exactly its expiry
	got := acquire(t, s, "ctl", "b", at)
	want := store.Lease{Name: "ctl", Holder: "b", Token: 2, Expires: at.Add(leaseTTL)}
	wantLease(t, "takeover at expiry", got, want)
	conflict(t, s, "ctl", "a", at.Add(time.Second), want)
	// The token survives a restart: the next takeover is 3.
	s = h.reopen(t, s, key)
	at = want.Expires.Add(time.Second)
	wantLease(t, "takeover after reopen", acquire(t, s, "ctl", "a", at), store.Lease{Name: "ctl", Holder: "a", Token: 3, Expires: at.Add(leaseTTL)})
}

// testLeaseRelease: a released lease is free at once and the next holder's token is one more;
// releasing a lease already lost changes nothing.
func testLeaseRelease(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	a := acquire(t, s, "ctl", "a", base)
	if err := s.ReleaseLease(t.Context(), a); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	at := base.Add(time.Second) // long before a's expiry
	b := acquire(t, s, "ctl", "b", at)
	wantLease(t, "AcquireLease after release", b, store.Lease{Name: "ctl", Holder: "b", Token: 2, Expires: at.Add(leaseTTL)})
	if err := s.ReleaseLease(t.Context(), a); err != nil {
		t.Fatalf("ReleaseLease of a lost lease: got %v, want nil", err)
	}
	conflict(t, s, "ctl", "c", at.Add(time.Second), b)
	// Even the same holder starts a new term after releasing.
	if err := s.ReleaseLease(t.Context(), b); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	at = at.Add(2 * time.Second)
	wantLease(t, "re-acquire by the releaser", acquire(t, s, "ctl", "b", at), store.Lease{Name: "ctl", Holder: "b", Token: 3, Expires: at.Add(leaseTTL)})
}

// testLeaseConcurrent races holders for a free lease, round after round: exactly one wins each,
// with the next token.
func testLeaseConcurrent(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const racers, rounds = 6, 4
	for round := range rounds {
		at := base.Add(time.Duration(round) * 2 * leaseTTL) // every earlier lease has expired
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []store.Lease
		)
		for i := range racers {
			wg.Go(func() {
				l, err := s.AcquireLease(t.Context(), "ctl", fmt.Sprintf("r%d-%d", round, i), leaseTTL, at)
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, l)
					mu.Unlock()
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("AcquireLease racer %d: got %v, want nil or ErrConflict", i, err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: got %d winners %+v, want exactly 1", round, len(winners), winners)
		}
		if got, want := winners[0].Token, int64(round+1); got != want {
			t.Errorf("round %d: winner's token %d, want %d", round, got, want)
		}
	}
}
