package ado

import (
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

// jobRequests converts the unfinished rows; their times share one backing array.
func jobRequests(in []leanJobRequest) []JobRequest {
	n := 0
	for i := range in {
		if r := &in[i]; !r.finished() {
			n += b2i(r.AssignTime.Set) + b2i(r.ReceiveTime.Set)
		}
	}
	times := make([]time.Time, 0, n)
	at := func(o optTime) *time.Time {
		if !o.Set {
			return nil
		}
		times = append(times, o.T)
		return &times[len(times)-1] // never reallocated: cap is exactly n
	}
	rows := make([]JobRequest, 0, len(in))
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
	return rows
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// leanAgents converts a decoded list. The agents' requests share one backing array: one allocation
// per list instead of one per busy agent.
func leanAgents(in []leanAgent) []Agent {
	n := 0
	for i := range in {
		if in[i].AssignedRequest != nil {
			n++
		}
		if in[i].LastCompleted != nil {
			n++
		}
	}
	reqs := make([]JobRequest, 0, n)
	req := func(r *leanRequest) *JobRequest {
		if r == nil {
			return nil
		}
		reqs = append(reqs, JobRequest{RequestID: r.RequestID, FinishTime: r.FinishTime, Result: r.Result, PoolID: r.PoolID})
		return &reqs[len(reqs)-1] // never reallocated: cap is exactly n
	}
	out := make([]Agent, len(in))
	for i := range in {
		a := &in[i]
		out[i] = Agent{
			ID: a.ID, Name: a.Name, Version: a.Version, Enabled: a.Enabled, Status: a.Status,
			ProvisioningState: a.ProvisioningState, CreatedOn: a.CreatedOn,
			StatusChangedOn: a.StatusChangedOn, MaxParallelism: a.MaxParallelism,
			AssignedRequest: req(a.AssignedRequest), LastCompleted: req(a.LastCompleted),
		}
	}
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
