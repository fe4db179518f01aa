package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Leader leases and fencing (issue 8, high availability). Two controllers may share one store; the
// one holding the lease leads. Every write a leader makes carries its fencing token in the context
// (WithFence), and a backend refuses the write with ErrFenced once a newer token exists, so a leader
// that paused past its lease (GC, a frozen VM) cannot overwrite its successor's state.

// ErrFenced: the write carried a fencing token older than the lease's current one; another
// controller leads now. The write changed nothing.
var ErrFenced = errors.New("fencing token superseded: another controller holds the lease")

// Lease is one named leader lease as stored.
type Lease struct {
	Name   string
	Holder string // the holder's identity (hostname/pod name plus a random suffix)
	// Token is the fencing token: it increases by one every time the lease changes holder (or is
	// first taken), never on a renewal by the same holder.
	Token   int64
	Expires time.Time
}

// Leases is the lease store every backend implements.
type Leases interface {
	// AcquireLease takes or renews lease name for holder at now. It succeeds when the lease does not
	// exist, has expired at now, or is already held by holder; it then sets Expires = now+ttl and
	// returns the lease as written (Token unchanged on a renewal, +1 on a change of holder). When
	// another holder's unexpired lease stands it returns that lease and ErrConflict. Concurrent
	// callers: at most one succeeds for a given prior state (a conditional write).
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (Lease, error)
	// ReleaseLease ends l at once if it is still held by l.Holder with l.Token, so a successor need
	// not wait out the ttl; a lease already lost is not an error.
	ReleaseLease(ctx context.Context, l Lease) error
}

// Fence is the lease a write is made under.
type Fence struct {
	Lease string // lease name
	Token int64
}

type fenceKey struct{}

// WithFence returns ctx carrying f: every store write made with the returned context is refused
// with ErrFenced if lease f.Lease's current token is not f.Token.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceFrom returns the fence ctx carries, if any. Writes without one are not fenced (webhook
// handlers and queue consumers, which any replica may run).
func FenceFrom(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}

// Admit is a backend's verdict on a write under f, given the lease's current token (exists false:
// there is no such lease, which no token matches): nil, or an error wrapping ErrFenced that names
// the lease and both tokens.
func (f Fence) Admit(token int64, exists bool) error {
	switch {
	case !exists:
		return fmt.Errorf("lease %q does not exist, write has token %d: %w", f.Lease, f.Token, ErrFenced)
	case token != f.Token:
		return fmt.Errorf("lease %q has token %d, write has %d: %w", f.Lease, token, f.Token, ErrFenced)
	}
	return nil
}
