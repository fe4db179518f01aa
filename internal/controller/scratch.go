package controller

import (
	"sync"

	"github.com/adofleet/adofleet/internal/scaler"
)

// Cycles reuse their observation and scaler.Planner through a sync.Pool: the indexes, the
// snapshot and the plan's own indexes are rebuilt every cycle for every pool, and building them
// from fresh maps and slices was about a third of what a 10,000-agent fleet allocated per cycle,
// whose GC cost is proportional to it (docs/BENCHMARKS.md). A shared pool rather than one scratch
// per pool keeps the memory in step with the cycles running at once, not with the number of
// pools: a 100-pool fleet whose cycles run one after another reuses one scratch, and the GC
// frees the ones no cycle has taken for two collections.
//
// This is safe because a scratch belongs to one cycle from newCycle to release, and nothing of
// the observation outlives its cycle: reset empties it at the start and at the end of each
// cycle, so no entry of one cycle reaches the next and no list of ADO, the provider or the store
// stays reachable between cycles. What a cycle hands out (Result, Counts, decisions, events, the
// plan's steps) holds values, strings and slices of its own, never the observation's memory; the
// snapshot does share it and is used only within the cycle.

// scratch is one cycle's reusable memory.
type scratch struct {
	obs     observation
	planner scaler.Planner
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// release empties the cycle's scratch and returns it to the pool; cy must not be used after.
func (cy *cycle) release() {
	cy.obs.release()
	scratches.Put(cy.sc)
	cy.sc, cy.obs = nil, nil
}

// Memory sized for more than keepEntries entries and more than shrinkFactor times what a cycle
// used is let go at its end, so that one large cycle (a burst, a backlog) does not pin its memory
// while the scratch serves small pools. Maps cannot report their capacity; the slices beside
// them say how large they grew.
const (
	shrinkFactor = 4
	keepEntries  = 1024
)

// release ends o's cycle: emptied as reset does, or dropped when it was sized for far more than
// this cycle used. A cycle that failed before its observation was complete says nothing about the
// pool's size: its memory is kept.
func (o *observation) release() {
	used := max(len(o.agentList), len(o.insts), len(o.recs), len(o.jobs))
	c := max(cap(o.insts), cap(o.snap.Agents), cap(o.recs))
	if o.placeholder != "" && c > keepEntries && c > shrinkFactor*used {
		*o = observation{}
		return
	}
	o.reset()
}

// reset empties o for the next cycle, keeping the memory of its maps and slices. Slices are
// zeroed before they are truncated, so the elements past their length keep nothing alive.
func (o *observation) reset() {
	o.placeholder = ""
	// The ADO lists are in o.lists, or (from an ADO that cannot list into it) their caller's, as
	// Reserved is: o.lists is cleared, the others dropped, never cleared.
	o.jobs, o.agentList, o.reserved = nil, nil, nil
	o.lists.Reset()
	o.demands = 0
	clear(o.agents)
	clear(o.insts)
	o.insts = o.insts[:0]
	clear(o.instByID)
	clear(o.instByAgent)
	o.nextByID, o.nextByAgent = o.nextByID[:0], o.nextByAgent[:0]
	clear(o.recs)
	o.recs = o.recs[:0]
	clear(o.recBuf)
	o.recBuf = o.recBuf[:0]
	clear(o.recByName)
	clear(o.assigned)
	clear(o.agentIndex)

	s := &o.snap
	clear(s.Jobs)
	clear(s.Agents)
	clear(s.Instances)
	clear(s.Draining)
	*s = scaler.Snapshot{
		Jobs: s.Jobs[:0], Agents: s.Agents[:0], Instances: s.Instances[:0], Draining: s.Draining,
	}
}

// emptied returns m cleared, or a new map sized for n when there is none yet.
func emptied[K comparable, V any](m map[K]V, n int) map[K]V {
	if m == nil {
		return make(map[K]V, n)
	}
	clear(m)
	return m
}
