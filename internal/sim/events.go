package sim

import (
	"container/heap"
	"time"
)

// eventKind says what an event does when its time comes.
type eventKind int

const (
	evArrive    eventKind = iota // a trace job is queued (idx)
	evBoot                       // an instance has booted: its agent registers (inst)
	evFinish                     // an agent's job ends (agent)
	evInterrupt                  // a spot interruption hits an instance (inst)
	evReconcile                  // a controller cycle for a pool (pool, gen)
	evWake                       // a queued job's event reaches the controller (pool)
)

type event struct {
	at   time.Time
	seq  uint64 // insertion order: equal times run in the order they were scheduled
	kind eventKind
	idx  int
	inst string
	name string // agent or pool
	gen  uint64 // for poll events: the pool's reconcile generation when scheduled
	wake bool   // a cycle a wake-up held (evReconcile)
}

// eventQueue is a min-heap by (at, seq): a deterministic order for equal times.
type eventQueue struct {
	items []*event
	seq   uint64
}

func (q *eventQueue) Len() int { return len(q.items) }
func (q *eventQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}
func (q *eventQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *eventQueue) Push(x any)    { q.items = append(q.items, x.(*event)) }
func (q *eventQueue) Pop() any {
	n := len(q.items)
	e := q.items[n-1]
	q.items[n-1] = nil
	q.items = q.items[:n-1]
	return e
}

// schedule adds e, stamping its sequence number.
func (q *eventQueue) schedule(e *event) {
	q.seq++
	e.seq = q.seq
	heap.Push(q, e)
}

// next removes and returns the earliest event.
func (q *eventQueue) next() *event { return heap.Pop(q).(*event) }
