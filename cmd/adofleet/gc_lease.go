package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/store"
)

// errLeaseHeld: gc refused to run because a controller leads. It would race the controller
// (both deleting and launching agents of the same pools).
var errLeaseHeld = errors.New("a controller holds the leader lease")

// runUnderLease runs work once while holding the controller's leader lease, when leader election
// is configured: a controller that starts meanwhile waits for gc, and gc's store writes carry
// the lease's fence. It refuses, without running work, when another holder has the lease. With
// no election there is no lease to check (the help says to stop the controller first).
func runUnderLease(ctx context.Context, cfg *config.Config, st store.Store, reg prometheus.Registerer, log *slog.Logger, work func(ctx context.Context)) error {
	le := cfg.Controller.LeaderElection
	if !le.Elects() {
		work(ctx)
		return nil
	}
	if le.Backend == config.LeaderBackendKubernetes {
		led, err := newLeaderOnly(cfg, st, reg, log) // leader.go
		if err != nil {
			return err
		}
		// client-go tries the Lease at once and then every retry period: not won within the
		// renew deadline means an unexpired Lease of another holder.
		return leadOnce(ctx, led.el, le.RenewDeadline.D(), work)
	}
	opts, err := leader.Options{
		Name: le.LeaseName, Identity: "adofleet-gc-" + leader.DefaultIdentity(),
		LeaseDuration: le.LeaseDuration.D(), RenewDeadline: le.RenewDeadline.D(), RetryPeriod: le.RetryPeriod.D(),
		Logger: log, Registerer: reg,
	}.WithDefaults()
	if err != nil {
		return fmt.Errorf("controller.leaderElection: %w", err)
	}
	// One attempt first, to refuse at once and name the holder; the elector then renews it.
	l, err := st.AcquireLease(ctx, opts.Name, opts.Identity, opts.LeaseDuration, opts.Now())
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w %q (holder %s, until %s): stop the controller before running gc", errLeaseHeld, opts.Name, l.Holder, l.Expires.Format(time.RFC3339))
	}
	if err != nil {
		return fmt.Errorf("take the leader lease %q: %w", opts.Name, err)
	}
	return leadOnce(ctx, leader.NewStore(st, opts), opts.RenewDeadline, work)
}

// leadOnce runs work in the first term el wins, then stops campaigning (releasing the lease). A
// term not won within wait means another holder leads: work does not run and errLeaseHeld is
// returned.
func leadOnce(ctx context.Context, el leader.Elector, wait time.Duration, work func(ctx context.Context)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var started, refused bool
	won := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- el.Run(ctx, func(lctx context.Context) {
			mu.Lock()
			first := !started && !refused
			started = started || first
			mu.Unlock()
			if !first {
				return
			}
			close(won)
			work(lctx)
			cancel() // Run returns once the lease is released
		})
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-won:
	case err := <-done:
		if err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
		return ctx.Err()
	case <-t.C:
		mu.Lock()
		refused = !started
		mu.Unlock()
		if refused {
			cancel()
			<-done
			return fmt.Errorf("%w: not won within %s; stop the controller before running gc", errLeaseHeld, wait)
		}
	}
	if err := <-done; err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	return nil
}
