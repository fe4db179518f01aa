package leader_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/adofleet/adofleet/internal/leader"
)

// TestCheckTermAfterAPause: renewals keep a term good; a pause of the whole process that
// outlasts the renew deadline (the clock jumps while no timer has fired, so the term's context is
// not cancelled yet) makes CheckTerm refuse at once.
func TestCheckTermAfterAPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := openStore(t)
		var paused atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(paused.Load())) }
		e := leader.NewStore(st, leader.Options{Name: "ctl", Identity: "a", Now: now})
		ctx, cancel := context.WithCancel(t.Context())
		leads := make(chan context.Context, 1)
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx, func(c context.Context) { leads <- c; <-c.Done() }) }()
		lead := <-leads

		if err := leader.CheckTerm(lead); err != nil {
			t.Fatalf("CheckTerm at the start of the term: %v", err)
		}
		time.Sleep(3 * leader.DefaultLeaseDuration) // many renewals
		synctest.Wait()
		if err := leader.CheckTerm(lead); err != nil {
			t.Fatalf("CheckTerm after renewals: %v", err)
		}

		paused.Store(int64(leader.DefaultRenewDeadline))
		if lead.Err() != nil {
			t.Fatal("the term's context ended before any timer fired")
		}
		if err := leader.CheckTerm(lead); !errors.Is(err, leader.ErrTermOver) {
			t.Errorf("CheckTerm after a pause past the renew deadline: got %v, want ErrTermOver", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
