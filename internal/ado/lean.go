package ado

import (
	"slices"
	"sync"
	"time"
)

// Lean decode types for the two lists every reconcile cycle reads (ListAgents, ListJobRequests).
// They declare only the fields adofleet reads, so the decoder skips the rest without allocating:
// the capabilities, the agent's key, and the bulk of each embedded job request (its data, owner
// and definition, host and scope ids, demands). Decoding the 100 agent lists and 100 job lists
// of a 10,000-agent fleet is most of a cycle's CPU (docs/BENCHMARKS.md), and most of that was
// allocating strings and maps nothing read. Each is converted to the exported type, whose doc
// comment says which fields the list fills.

// leanAgent is a TaskAgent of the pool agents list.
type leanAgent struct {
	ID                int          `json:"id"`
	Name              string       `json:"name"`
	Version           string       `json:"version"`
	Enabled           bool         `json:"enabled"`
	Status            AgentStatus  `json:"status"`
	ProvisioningState string       `json:"provisioningState"`
	CreatedOn         time.Time    `json:"createdOn"`
	StatusChangedOn   time.Time    `json:"statusChangedOn"`
	MaxParallelism    int          `json:"maxParallelism"`
	AssignedRequest   *leanRequest `json:"assignedRequest"`
	LastCompleted     *leanRequest `json:"lastCompletedRequest"`
}

// leanRequest is an agent's assignedRequest or lastCompletedRequest: which job, and how and when
// it ended. Its other times are not decoded: each costs a parse and two allocations, and a busy
// agent's request carries four.
type leanRequest struct {
	RequestID  int64      `json:"requestId"`
	FinishTime *time.Time `json:"finishTime"`
	Result     *string    `json:"result"`
	PoolID     int        `json:"poolId"`
}

// leanJobRequest is a row of the pool job-requests list: what the controller decides on (queue,
// assign and receive times, result, demands, the reserved agent) and the job's name for events.
// matchedAgents, which can list every agent of the pool in every row, is not declared; nor are
// finishTime (a finished row is dropped), lockedUntil, and planType, planId and jobId, which
// nothing that reads this list uses (three strings a row, a third of a cycle's row allocations).
// The two optional times decode into values, not pointers: jobRequests points them into one
// array per list instead of allocating two per running row.
type leanJobRequest struct {
	RequestID     int64     `json:"requestId"`
	QueueTime     time.Time `json:"queueTime"`
	AssignTime    optTime   `json:"assignTime"`
	ReceiveTime   optTime   `json:"receiveTime"`
	Result        *string   `json:"result"`
	JobName       string    `json:"jobName"`
	PoolID        int       `json:"poolId"`
	Demands       []string  `json:"demands"`
	ReservedAgent *AgentRef `json:"reservedAgent"`
}

// optTime is a time that may be null or absent (Set false), decoded as *time.Time would be.
type optTime struct {
	T   time.Time
	Set bool
}

// UnmarshalJSON decodes a time or null (no time, as null sets a *time.Time to nil, also after a
// repeated key set one).
func (o *optTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = optTime{}
		return nil
	}
	if err := o.T.UnmarshalJSON(b); err != nil {
		return err
	}
	o.Set = true
	return nil
}

func (r *leanJobRequest) finished() bool { return r.Result != nil }

// ListBuffers is memory a caller reuses across list calls (ListJobRequestsInto,
// ListAgentsInto): the rows a call returns, and the times and requests they point to, live in it
// and are overwritten by the next call through it. The controller lists two lists per pool every
// cycle and drops them at the cycle's end; building each in fresh memory was a fifth of what a
// fleet cycle allocated (docs/BENCHMARKS.md). A ListBuffers serves one goroutine at a time; the
// zero value is ready.
type ListBuffers struct {
	jobs      []JobRequest
	jobTimes  []time.Time
	agents    []Agent
	agentReqs []JobRequest
}

// Reset zeroes what the last calls returned, so their strings and pointers are not kept alive,
// and keeps the memory for the next calls.
func (b *ListBuffers) Reset() {
	clear(b.jobs)
	clear(b.agents)
	clear(b.agentReqs)
	b.jobs, b.jobTimes, b.agents, b.agentReqs = b.jobs[:0], b.jobTimes[:0], b.agents[:0], b.agentReqs[:0]
}

// jobRequests converts the unfinished rows into b's memory (fresh memory when b is nil); their
// times share one backing array.
func jobRequests(b *ListBuffers, in []leanJobRequest) []JobRequest {
	if b == nil {
		b = &ListBuffers{}
	}
	n := 0
	for i := range in {
		if r := &in[i]; !r.finished() {
			n += b2i(r.AssignTime.Set) + b2i(r.ReceiveTime.Set)
		}
	}
	// Both are filled from empty: nothing of the last call may point into them any more.
	times := slices.Grow(b.jobTimes[:0], n)
	at := func(o optTime) *time.Time {
		if !o.Set {
			return nil
		}
		times = append(times, o.T)
		return &times[len(times)-1] // never reallocated: cap is at least n
	}
	clear(b.jobs)
	rows := slices.Grow(b.jobs[:0], len(in))
	for i := range in {
		r := &in[i]
		if r.finished() {
			continue
		}
		rows = append(rows, JobRequest{
			RequestID: r.RequestID, QueueTime: r.QueueTime, AssignTime: at(r.AssignTime),
			ReceiveTime: at(r.ReceiveTime), JobName: r.JobName,
			PoolID: r.PoolID, Demands: r.Demands, ReservedAgent: r.ReservedAgent,
		})
	}
	b.jobs, b.jobTimes = rows, times
	return rows
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// leanAgents converts the agents into b's memory (fresh memory when b is nil); their requests
// share one backing array.
func leanAgents(b *ListBuffers, in []leanAgent) []Agent {
	if b == nil {
		b = &ListBuffers{}
	}
	n := 0
	for i := range in {
		n += b2i(in[i].AssignedRequest != nil) + b2i(in[i].LastCompleted != nil)
	}
	clear(b.agentReqs)
	reqs := slices.Grow(b.agentReqs[:0], n)
	req := func(r *leanRequest) *JobRequest {
		if r == nil {
			return nil
		}
		reqs = append(reqs, JobRequest{RequestID: r.RequestID, FinishTime: r.FinishTime, Result: r.Result, PoolID: r.PoolID})
		return &reqs[len(reqs)-1] // never reallocated: cap is at least n
	}
	clear(b.agents)
	out := slices.Grow(b.agents[:0], len(in))
	for i := range in {
		a := &in[i]
		out = append(out, Agent{
			ID: a.ID, Name: a.Name, Version: a.Version, Enabled: a.Enabled, Status: a.Status,
			ProvisioningState: a.ProvisioningState, CreatedOn: a.CreatedOn,
			StatusChangedOn: a.StatusChangedOn, MaxParallelism: a.MaxParallelism,
			AssignedRequest: req(a.AssignedRequest), LastCompleted: req(a.LastCompleted),
		})
	}
	b.agents, b.agentReqs = out, reqs
	return out
}

// listBuf recycles the slices the two lists decode into. Each list is converted to the exported
// type right after decoding, so its rows are garbage at once; decoding into a fresh slice grew it
// by doubling, about 8 MB of garbage a cycle for 100 pools (docs/BENCHMARKS.md). A slice is
// zeroed before it goes back: the decoder writes into the elements it finds, and a pointer left
// in one (an assignTime) would otherwise be shared with the rows already handed out.
type listBuf[T any] struct{ p sync.Pool }

var (
	agentBufs listBuf[leanAgent]
	jobBufs   listBuf[leanJobRequest]
)

// get returns an empty slice, with the capacity of an earlier list when there is one.
func (b *listBuf[T]) get() []T {
	if s, ok := b.p.Get().(*[]T); ok {
		return (*s)[:0]
	}
	return nil
}

// put takes back s (which the caller no longer reads); a very long one is left to the GC.
func (b *listBuf[T]) put(s []T) {
	if s == nil || cap(s) > 4096 {
		return
	}
	clear(s[:cap(s)])
	b.p.Put(&s)
}
