package leader

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// storeElector campaigns for a lease kept in the state store (store.Leases).
type storeElector struct {
	leases  store.Leases
	opts    Options
	err     error // invalid options: Run returns it
	log     *slog.Logger
	m       *Metrics
	leading atomic.Bool
}

var _ Elector = (*storeElector)(nil)

// NewStore returns an Elector over leases. The lead context carries the lease's fence
// (store.WithFence), so every store write made with it is refused once another replica has
// taken the lease. Invalid options (see Options.WithDefaults) make Run fail at once.
func NewStore(leases store.Leases, opts Options) Elector {
	opts, err := opts.WithDefaults()
	e := &storeElector{leases: leases, opts: opts, err: err}
	e.log = opts.Logger.With("component", "leader", "lease", opts.Name, "identity", opts.Identity)
	e.m = NewMetrics(opts.Registerer, opts.Name)
	return e
}

// IsLeader reports whether this replica leads now.
func (e *storeElector) IsLeader() bool { return e.leading.Load() }

// Run campaigns every RetryPeriod; each win runs one term (see term). It returns nil when ctx
// ends.
func (e *storeElector) Run(ctx context.Context, lead func(ctx context.Context)) error {
	if e.err != nil {
		return e.err
	}
	e.log.Info("campaigning for leadership", "leaseDuration", e.opts.LeaseDuration,
		"renewDeadline", e.opts.RenewDeadline, "retryPeriod", e.opts.RetryPeriod)
	for {
		if l, ok := e.acquire(ctx); ok {
			e.term(ctx, l, lead)
		}
		if !sleep(ctx, e.opts.RetryPeriod) {
			return nil
		}
	}
}

// acquire makes one attempt at the lease; ok if this replica holds it now.
func (e *storeElector) acquire(ctx context.Context) (store.Lease, bool) {
	now := e.opts.Now()
	cctx, cancel := context.WithTimeout(ctx, e.opts.RenewDeadline)
	defer cancel()
	l, err := e.leases.AcquireLease(cctx, e.opts.Name, e.opts.Identity, e.opts.LeaseDuration, now)
	switch {
	case err == nil:
		return l, true
	case ctx.Err() != nil:
	case errors.Is(err, store.ErrConflict):
		e.log.Debug("another replica leads", "holder", l.Holder, "until", l.Expires)
	default:
		e.log.Warn("acquire the leader lease (will retry)", "err", err)
	}
	return store.Lease{}, false
}

// term runs lead for one won lease and keeps renewing it; it returns once lead has returned,
// after releasing the lease, so a successor need not wait for it to expire. The lead context
// ends when ctx does, when lead returns, when another replica holds the lease, or when no
// renewal has succeeded for RenewDeadline: the leader then stops acting
// LeaseDuration-RenewDeadline before the lease it last wrote can expire.
func (e *storeElector) term(ctx context.Context, l store.Lease, lead func(ctx context.Context)) {
	// The deadline counts from the time read before the winning write, as the lease's expiry does.
	tc := newTermClock(e.opts.Now, l.Expires.Add(e.opts.RenewDeadline-e.opts.LeaseDuration))
	leadCtx, cancel := context.WithCancel(WithTermCheck(store.WithFence(ctx, store.Fence{Lease: l.Name, Token: l.Token}), tc.check))
	defer cancel()
	e.setLeading(true)
	e.log.Info("became leader", "token", l.Token, "expires", l.Expires)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(leadCtx)
	}()
	reason := e.renew(leadCtx, l, tc, done)
	cancel()
	e.setLeading(false)
	e.log.Info("stopped leading", "token", l.Token, "reason", reason)
	<-done
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.RenewDeadline)
	defer rcancel()
	if err := e.leases.ReleaseLease(rctx, l); err != nil {
		e.log.Warn("release the leader lease (a successor waits for it to expire)", "err", err)
	}
}

// renew renews l every RetryPeriod until ctx ends or lead returns (done), another replica holds
// the lease, or the term's deadline passes with no successful renewal; it says which. Each
// renewal moves tc's deadline on, which CheckTerm reads.
func (e *storeElector) renew(ctx context.Context, l store.Lease, tc *termClock, done <-chan struct{}) string {
	deadline := tc.deadline()
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for {
		wait := min(e.opts.RetryPeriod, deadline.Sub(e.opts.Now()))
		t.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			return "shutting down"
		case <-done:
			return "the controller returned"
		case <-t.C:
		}
		now := e.opts.Now()
		if !now.Before(deadline) {
			return "no renewal succeeded within the renew deadline"
		}
		cctx, cancel := context.WithTimeout(ctx, deadline.Sub(now))
		got, err := e.leases.AcquireLease(cctx, l.Name, l.Holder, e.opts.LeaseDuration, now)
		cancel()
		switch {
		case err == nil && got.Token == l.Token:
			deadline = now.Add(e.opts.RenewDeadline)
			tc.extend(deadline)
		case err == nil:
			return "the lease changed term"
		case errors.Is(err, store.ErrConflict):
			return "another replica holds the lease: " + got.Holder
		case ctx.Err() == nil:
			e.log.Warn("renew the leader lease (will retry until the renew deadline)", "err", err, "deadline", deadline)
		}
	}
}

func (e *storeElector) setLeading(v bool) {
	e.leading.Store(v)
	e.m.SetLeader(v)
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
