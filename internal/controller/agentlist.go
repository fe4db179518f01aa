package controller

import (
	"context"

	"github.com/adofleet/adofleet/internal/ado"
)

// Busy agents are learnt from the job-requests list, not from the agents list. Asked with
// includeAssignedRequest, ADO embeds in every busy agent the whole job request it runs (about
// 1.5 KB: its data, owner, definition, demands and times), which was most of the bytes a
// reconcile decoded (docs/BENCHMARKS.md). The job-requests list, read every cycle anyway, already
// carries every running job with its reservedAgent, so the agents are listed without their
// assigned requests (still with the last completed one: its finish time, which no other list
// shows, is what idle time and the one-job "finished" check rest on) and each running row is
// attached to its agent as the AssignedRequest that every reader in the controller checks.
//
// The attribution must be complete, or a busy agent would look idle (the drain's re-check, which
// reads one agent in full, still guards termination). When it may not be, the agents are listed
// again, in full: see attributable.

// agentListerWith is implemented by *ado.Client. An ADO without it (a test double) is listed with
// ListAgents, whose assigned requests are then kept.
type agentListerWith interface {
	ListAgentsWith(ctx context.Context, poolID int, o ado.AgentListOptions) ([]ado.Agent, error)
}

// listerInto is implemented by *ado.Client: the cycle's two lists built in the cycle's reused
// memory (ado.ListBuffers, held by its observation). An ADO without it is listed as above.
type listerInto interface {
	ListAgentsInto(ctx context.Context, b *ado.ListBuffers, poolID int, o ado.AgentListOptions) ([]ado.Agent, error)
	ListJobRequestsInto(ctx context.Context, b *ado.ListBuffers, poolID int) ([]ado.JobRequest, error)
}

// leanAgents is what the cycle's agents list asks for.
var leanAgents = ado.AgentListOptions{AssignedRequest: false, LastCompletedRequest: true}

// listAgentsInto lists the agents with o's requests into b, or as the ADO can.
func (c *countingADO) listAgentsInto(ctx context.Context, b *ado.ListBuffers, poolID int, o ado.AgentListOptions) ([]ado.Agent, error) {
	c.calls.Add(1)
	switch l := c.next.(type) {
	case listerInto:
		return l.ListAgentsInto(ctx, b, poolID, o)
	case agentListerWith:
		return l.ListAgentsWith(ctx, poolID, o)
	}
	return c.next.ListAgents(ctx, poolID)
}

// listJobRequestsInto lists the job requests into b, or as the ADO can.
func (c *countingADO) listJobRequestsInto(ctx context.Context, b *ado.ListBuffers, poolID int) ([]ado.JobRequest, error) {
	if l, ok := c.next.(listerInto); ok {
		c.calls.Add(1)
		return l.ListJobRequestsInto(ctx, b, poolID)
	}
	return c.ListJobRequests(ctx, poolID)
}

// attributable reports whether jobs names the agent of every running job, so that attachJobs
// finds every busy agent: the list is below ADO's row cap (a full answer may have left running
// rows out) and every assigned row carries its reservedAgent.
func attributable(jobs []ado.JobRequest) bool {
	if len(jobs) >= ado.MaxJobRequestRows {
		return false
	}
	for i := range jobs {
		if j := &jobs[i]; !j.Finished() && !j.Queued() && j.ReservedAgent == nil {
			return false
		}
	}
	return true
}

// attachJobs sets the AssignedRequest of each agent an unfinished row reserves, unless the agents
// list already gave it one. A row names its agent by id; an agent not listed (it registered after
// the list) is left to the job's own AgentID. The index by id is built in o's memory.
func (o *observation) attachJobs(agents []ado.Agent, jobs []ado.JobRequest) {
	if len(jobs) == 0 {
		return
	}
	byID := emptied(o.agentIndex, len(agents))
	o.agentIndex = byID
	for i := range agents {
		byID[agents[i].ID] = i
	}
	for k := range jobs {
		j := &jobs[k]
		if j.Finished() || j.ReservedAgent == nil {
			continue
		}
		if i, ok := byID[j.ReservedAgent.ID]; ok && agents[i].AssignedRequest == nil {
			agents[i].AssignedRequest = j
		}
	}
}
