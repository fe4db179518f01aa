package main

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// TestLeaderOnlyWithoutElection: with election off the loops run at once, under a context with
// no fence, until serve stops; a loop's failure stops serve with its error.
func TestLeaderOnlyWithoutElection(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		led := &leaderOnly{}
		ran := make(chan bool, 1)
		led.Go(func(ctx context.Context) error {
			_, fenced := store.FenceFrom(ctx)
			ran <- fenced
			<-ctx.Done()
			return nil
		})
		led.Go(func(context.Context) error { return nil }) // done at once: the term goes on
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- led.run(ctx) }()
		if fenced := <-ran; fenced {
			t.Errorf("loop context carries a fence with election off")
		}
		synctest.Wait()
		if !led.leading() || led.ready(func() error { return nil })() != nil {
			t.Errorf("without election: leading %v; want leading and ready", led.leading())
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v before ctx ended", err)
		default:
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run after ctx ended: %v", err)
		}

		boom := errors.New("boom")
		failing := &leaderOnly{}
		failing.Go(func(ctx context.Context) error { <-ctx.Done(); return nil })
		failing.Go(func(context.Context) error { return boom })
		if err := failing.run(t.Context()); !errors.Is(err, boom) {
			t.Errorf("run with a failing loop: got %v, want %v", err, boom)
		}
	})
}

// TestLeaderOnlyTwoReplicas: two replicas on one store: only the leader runs the loops, under the
// lease's fence, and is ready; when it stops the other takes over.
func TestLeaderOnlyTwoReplicas(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		var running atomic.Int32
		type replica struct {
			led    *leaderOnly
			fences chan store.Fence
			cancel context.CancelFunc
			done   chan error
		}
		start := func(identity string) *replica {
			st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
			if err != nil {
				t.Fatalf("sqlite.Open: %v", err)
			}
			t.Cleanup(func() { _ = st.Close() })
			r := &replica{
				led:    &leaderOnly{el: leader.NewStore(st, leader.Options{Name: "ctl", Identity: identity})},
				fences: make(chan store.Fence, 4), done: make(chan error, 1),
			}
			r.led.Go(func(ctx context.Context) error {
				if n := running.Add(1); n != 1 {
					t.Errorf("%d replicas run the loops at once", n)
				}
				defer running.Add(-1)
				f, _ := store.FenceFrom(ctx)
				r.fences <- f
				<-ctx.Done()
				return nil
			})
			var ctx context.Context
			ctx, r.cancel = context.WithCancel(t.Context())
			go func() { r.done <- r.led.run(ctx) }()
			return r
		}
		ready := func(r *replica) bool { return r.led.ready(func() error { return nil })() == nil }

		a := start("a")
		if f := <-a.fences; f.Token != 1 {
			t.Errorf("a's fence: got %+v, want token 1", f)
		}
		b := start("b")
		time.Sleep(3 * leader.DefaultLeaseDuration)
		synctest.Wait()
		if !ready(a) || ready(b) {
			t.Errorf("ready: a %v, b %v; want a only", ready(a), ready(b))
		}
		a.cancel()
		if err := <-a.done; err != nil {
			t.Errorf("a's run: %v", err)
		}
		if f := <-b.fences; f.Token != 2 {
			t.Errorf("b's fence: got %+v, want token 2", f)
		}
		synctest.Wait()
		if !ready(b) {
			t.Errorf("b not ready after taking over")
		}
		b.cancel()
		<-b.done
	})
}
