package chaos

import (
	"fmt"
	"sync/atomic"
	"time"
)

// A pause: the leader's goroutine stops in the middle of a reconcile (in the provider's List) for
// longer than its lease. Meanwhile its lease writes fail (default: the renewals fail, the renew
// deadline ends the term and cancels its context) or hang (-chaos.pause=process: the whole
// process is stopped, renewals included, so the term's context is still live when the reconcile
// resumes). The other replica takes the lease once it expires and leads. When the pause ends the
// stale reconcile runs to its end first; the guards check that it changed nothing.

// leaseTally counts what the election did.
type leaseTally struct {
	terms     atomic.Int64 // terms won
	fenced    atomic.Int64 // writes the store refused under an old fence
	stale     atomic.Int64 // ADO or cloud calls made under an old lease (process pauses only)
	pauses    int
	takeovers int // pauses during which the other replica took the lease
}

// pause is the leader's pause in progress.
type pause struct {
	r     *replica
	pool  string
	token int64
	until time.Time
	gate  chan struct{} // closed when the pause ends: the reconcile resumes
	down  chan struct{} // closed after the reconcile returned: lease writes work again
	done  chan struct{} // closed when the paused reconcile returned
}

// stepPause ends the pause that is due and, with faults on, now and then pauses the leader.
func (w *world) stepPause(faultsOn bool) {
	if w.pause != nil && !time.Now().Before(w.pause.until) {
		w.endPause()
	}
	if w.pause != nil || !faultsOn || w.rnd.Float64() >= w.pauseAt {
		return
	}
	r := w.leader()
	if r == nil {
		return
	}
	p := &pause{r: r, pool: w.pools[w.rnd.IntN(len(w.pools))].name,
		until: time.Now().Add(leaseDuration + w.step + time.Duration(w.rnd.Int64N(int64(90*time.Second)))),
		gate:  make(chan struct{}), down: make(chan struct{}), done: make(chan struct{})}
	ctx := r.ctx()
	r.mu.Lock()
	r.paused, r.gate, r.down, p.token = true, p.gate, p.down, r.token
	r.mu.Unlock()
	w.pause = p
	w.leases.pauses++
	w.logf("%s (token %d) pauses in a reconcile of pool %s until %s", r.id, p.token, p.pool, p.until.UTC().Format(time.TimeOnly))
	go func() {
		defer close(p.done)
		if _, err := r.ctrl.ReconcileOnce(ctx, p.pool); err != nil {
			w.logf("%s: the paused reconcile of %s: %v", r.id, p.pool, err)
		}
	}()
}

// endPause lets the paused reconcile run to its end, then gives the replica its store back.
func (w *world) endPause() {
	p := w.pause
	w.pause = nil
	r := p.r
	r.mu.Lock()
	r.gate = nil
	r.mu.Unlock()
	close(p.gate)
	<-p.done
	r.mu.Lock()
	r.down, r.paused = nil, false
	r.mu.Unlock()
	close(p.down)
	if token, holder := w.currentLease(); token != p.token {
		w.leases.takeovers++
		w.logf("%s resumed: %s leads now with token %d", r.id, holder, token)
	}
	w.stepAgents()
	for _, ps := range w.pools {
		if ps.name == p.pool {
			w.checkCycle(ps)
		}
	}
}

// releasePause frees a pause left when the test ends early, so the bubble's goroutines can end.
func (w *world) releasePause() {
	if p := w.pause; p != nil {
		w.pause = nil
		close(p.gate)
		close(p.down)
		<-p.done
	}
}

func (t *leaseTally) String() string {
	return fmt.Sprintf("%d terms, %d pauses of the leader (%d taken over), %d writes refused under an old fence, %d ADO or cloud calls under an old lease",
		t.terms.Load(), t.pauses, t.takeovers, t.fenced.Load(), t.stale.Load())
}
