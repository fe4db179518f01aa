package leader_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/leader/leadertest"
	"github.com/adofleet/adofleet/internal/promreg/promregtest"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// The elector runs against the real SQLite store inside a synctest bubble: durations are the
// defaults (15s lease, 10s renew deadline, 2s retry) and cost no wall time.

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// replica is one elector running in the background, its lead contexts sent on leads.
type replica struct {
	e      leader.Elector
	leads  chan context.Context
	cancel context.CancelFunc
	done   chan error
}

// start runs an elector for identity over leases; lead blocks until its context ends, unless
// returnAt once says to return at once (the first term only).
func start(t *testing.T, leases store.Leases, identity string, reg prometheus.Registerer, returnAtOnce bool) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r := &replica{
		e:     leader.NewStore(leases, leader.Options{Name: "ctl", Identity: identity, Registerer: reg}),
		leads: make(chan context.Context, 8), cancel: cancel, done: make(chan error, 1),
	}
	first := true
	go func() {
		r.done <- r.e.Run(ctx, func(ctx context.Context) {
			r.leads <- ctx
			if first && returnAtOnce {
				first = false
				return
			}
			<-ctx.Done()
		})
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

func fenceOf(t *testing.T, ctx context.Context) store.Fence {
	t.Helper()
	f, ok := store.FenceFrom(ctx)
	if !ok {
		t.Fatalf("lead context carries no fence")
	}
	return f
}

func TestLeadsRenewsAndReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		reg := prometheus.NewRegistry()
		a := start(t, st, "a", reg, false)
		leadCtx := <-a.leads
		if got, want := fenceOf(t, leadCtx), (store.Fence{Lease: "ctl", Token: 1}); got != want {
			t.Errorf("fence: got %+v, want %+v", got, want)
		}
		// Renewals keep the lease for many lease durations.
		time.Sleep(5 * leader.DefaultLeaseDuration)
		synctest.Wait()
		if !a.e.IsLeader() || leadCtx.Err() != nil {
			t.Fatalf("after 5 lease durations: IsLeader %v, lead context %v; want true, live", a.e.IsLeader(), leadCtx.Err())
		}
		if _, err := st.AcquireLease(t.Context(), "ctl", "intruder", time.Second, time.Now()); !errors.Is(err, store.ErrConflict) {
			t.Errorf("another holder while a renews: got %v, want ErrConflict", err)
		}
		if got := gauge(t, reg, "adofleet_leader_is_leader"); got != 1 {
			t.Errorf("is_leader while leading: got %v, want 1", got)
		}

		a.cancel()
		if err := <-a.done; err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
		a.done <- nil // for the cleanup
		if leadCtx.Err() == nil || a.e.IsLeader() {
			t.Errorf("after Run returned: lead context %v, IsLeader %v; want ended, false", leadCtx.Err(), a.e.IsLeader())
		}
		// Released: another holder takes it at once, with the next token.
		l, err := st.AcquireLease(t.Context(), "ctl", "b", time.Second, time.Now())
		if err != nil || l.Token != 2 {
			t.Errorf("AcquireLease right after a stopped: got %+v, %v; want token 2", l, err)
		}
		if got := gauge(t, reg, "adofleet_leader_is_leader"); got != 0 {
			t.Errorf("is_leader after stopping: got %v, want 0", got)
		}
		for to, want := range map[string]float64{"leader": 1, "follower": 1} {
			if got := counter(t, reg, "adofleet_leader_transitions_total", to); got != want {
				t.Errorf("transitions_total{to=%q}: got %v, want %v", to, got, want)
			}
		}
	})
}

// TestFailoverAfterCrash: the leader dies without releasing; the follower takes over once the
// lease has expired, within LeaseDuration+RetryPeriod of the crash, and the dead leader's
// fence no longer writes.
func TestFailoverAfterCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		fa := leadertest.NewFaulty(st)
		a := start(t, fa, "a", nil, false)
		fenceA := fenceOf(t, <-a.leads)
		b := start(t, st, "b", nil, false)
		time.Sleep(3 * leader.DefaultLeaseDuration)
		synctest.Wait()
		if b.e.IsLeader() {
			t.Fatalf("b leads while a renews")
		}

		fa.Crash()
		crashAt := time.Now()
		a.cancel()
		fenceB := fenceOf(t, <-b.leads)
		took := time.Since(crashAt)
		if max := leader.DefaultLeaseDuration + leader.DefaultRetryPeriod; took > max {
			t.Errorf("b took over %v after the crash, want at most %v", took, max)
		}
		if min := leader.DefaultLeaseDuration - leader.DefaultRetryPeriod; took < min {
			t.Errorf("b took over %v after the crash, before a's lease could have expired (%v)", took, min)
		}
		if fenceB.Token != fenceA.Token+1 {
			t.Errorf("b's token %d, want %d", fenceB.Token, fenceA.Token+1)
		}
		err := st.AppendDecision(store.WithFence(context.Background(), fenceA), store.Decision{Time: time.Now(), Pool: "p", Action: "launch"})
		if !errors.Is(err, store.ErrFenced) {
			t.Errorf("write under the dead leader's fence: got %v, want ErrFenced", err)
		}
	})
}

// TestStepsDownWhenRenewalsFail: a leader that cannot reach the store ends its lead context
// RenewDeadline after its last renewal, before its lease expires; it leads again when the store
// is back.
func TestStepsDownWhenRenewalsFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		fa := leadertest.NewFaulty(st)
		a := start(t, fa, "a", nil, false)
		leadCtx := <-a.leads
		time.Sleep(leader.DefaultLeaseDuration)
		synctest.Wait()
		fa.SetFailing(true)
		last, _ := fa.LastWin()
		<-leadCtx.Done()
		stoppedAt := time.Now()
		if got, want := stoppedAt.Sub(last.Now), leader.DefaultRenewDeadline; got > want {
			t.Errorf("stopped %v after the last renewal, want at most the renew deadline %v", got, want)
		}
		if !stoppedAt.Before(last.Lease.Expires) {
			t.Errorf("stopped at %v, not before the lease expired at %v", stoppedAt, last.Lease.Expires)
		}
		synctest.Wait()
		if a.e.IsLeader() {
			t.Errorf("IsLeader after stepping down: got true")
		}
		fa.SetFailing(false)
		again := <-a.leads
		if got := fenceOf(t, again).Token; got != 1 {
			t.Errorf("token after the store came back: got %d, want 1 (a still held the lease)", got)
		}
	})
}

// TestLeadReturningReleases: when the controller returns on its own the lease is released and
// the elector campaigns again, for a new term with the next token.
func TestLeadReturningReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		a := start(t, st, "a", nil, true)
		first := fenceOf(t, <-a.leads)
		second := fenceOf(t, <-a.leads)
		if second.Token != first.Token+1 {
			t.Errorf("second term's token %d, want %d", second.Token, first.Token+1)
		}
	})
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts leader.Options
		want string
	}{
		{"renew deadline not below lease", leader.Options{LeaseDuration: 10 * time.Second, RenewDeadline: 10 * time.Second}, "renew deadline"},
		{"retry not below renew deadline", leader.Options{RenewDeadline: 2 * time.Second, RetryPeriod: 3 * time.Second}, "retry period"},
		{"negative", leader.Options{RetryPeriod: -time.Second}, "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := leader.NewStore(nil, tc.opts).Run(t.Context(), func(context.Context) { t.Error("lead called") })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	m := metric(t, reg, name, "")
	if m == nil {
		return -1
	}
	return m.GetGauge().GetValue()
}

func counter(t *testing.T, reg *prometheus.Registry, name, to string) float64 {
	t.Helper()
	m := metric(t, reg, name, to)
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// metric finds name's series for lease "ctl" (and to, if set).
func metric(t *testing.T, reg *prometheus.Registry, name, to string) *dto.Metric {
	t.Helper()
	labels := []string{"lease", "ctl"}
	if to != "" {
		labels = append(labels, "to", to)
	}
	return promregtest.Find(t, reg, name, labels...)
}
