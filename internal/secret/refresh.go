package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Source hands out the current value of one secret. A Refresher is one; Static is another.
type Source interface {
	Get(ctx context.Context) (Value, error)
}

// Static is a Source whose value never changes (tests, or a value resolved once).
type Static Value

// Get implements Source.
func (s Static) Get(context.Context) (Value, error) { return Value(s), nil }

// Defaults of RefreshOptions.
const (
	DefaultTTL        = 5 * time.Minute
	DefaultGrace      = time.Hour
	DefaultRetryAfter = 30 * time.Second
)

// RefreshOptions tunes a Refresher. Zero fields take the defaults above.
type RefreshOptions struct {
	// TTL is how long a resolved value is served before it is resolved again, so that a rotated
	// secret (an SSM parameter overwritten, a Secrets Manager rotation) is picked up.
	TTL time.Duration
	// Grace is how long past its TTL the last good value is still served while refreshing fails:
	// an SSM outage must not stop the fleet while the old token is very likely still valid.
	Grace time.Duration
	// RetryAfter is the least time between two failed refreshes, so that an outage is not
	// met with one AWS call per Get.
	RetryAfter time.Duration
	// Now returns the current time (a seam for tests). Default time.Now.
	Now func() time.Time
	// Log receives refresh warnings (naming the reference, never the value). Nil discards them.
	Log *slog.Logger
}

// Refresher serves one reference's value from a cache that it refreshes on a TTL. It is safe for
// concurrent use; concurrent Gets that find the value stale resolve it once.
type Refresher struct {
	res  Resolver
	ref  string
	opts RefreshOptions
	log  *slog.Logger

	mu         sync.Mutex
	val        Value
	resolvedAt time.Time // zero until the first success
	failedAt   time.Time // last failed refresh, zero after a success
}

// NewRefresher returns a Refresher of ref. res is usually a *Registry, which resolves whole
// references; nothing is resolved until the first Get, so call Get once at start-up to fail fast.
func NewRefresher(res Resolver, ref string, opts RefreshOptions) *Refresher {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Grace < 0 {
		opts.Grace = 0
	} else if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Refresher{res: res, ref: ref, opts: opts, log: log.With("component", "secret", "ref", ref)}
}

// Ref returns the reference this Refresher serves. It holds no secret.
func (r *Refresher) Ref() string { return r.ref }

// Get returns the cached value while it is fresh, and resolves the reference again once the TTL
// has passed. If that fails, the last good value is served (and a warning logged) until Grace
// past the TTL; after that, or if there never was a good value, the error is returned.
func (r *Refresher) Get(ctx context.Context) (Value, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	have := !r.resolvedAt.IsZero()
	if have && now.Before(r.resolvedAt.Add(r.opts.TTL)) {
		return r.val, nil
	}
	inGrace := have && now.Before(r.resolvedAt.Add(r.opts.TTL+r.opts.Grace))
	if inGrace && !r.failedAt.IsZero() && now.Before(r.failedAt.Add(r.opts.RetryAfter)) {
		return r.val, nil // failed a moment ago: do not hammer the backend
	}
	v, err := r.res.Resolve(ctx, r.ref)
	if err == nil && v.IsZero() {
		err = &Error{Ref: r.ref, Err: errEmpty}
	}
	if err == nil {
		r.val, r.resolvedAt, r.failedAt = v, now, time.Time{}
		return v, nil
	}
	if se := (*Error)(nil); !errors.As(err, &se) {
		err = &Error{Ref: r.ref, Err: err} // a bare Resolver's error does not name the reference
	}
	r.failedAt = now
	if inGrace {
		r.log.Warn("refreshing secret failed; serving the last good value",
			"error", err, "age", now.Sub(r.resolvedAt).String(),
			"grace_left", r.resolvedAt.Add(r.opts.TTL+r.opts.Grace).Sub(now).String())
		return r.val, nil
	}
	if have {
		r.log.Error("refreshing secret failed past its grace period", "error", err)
		return Value{}, fmt.Errorf("refresh %s: stale since %s: %w", r.ref, r.resolvedAt.Add(r.opts.TTL).Format(time.RFC3339), err)
	}
	return Value{}, err
}
