package controller

import (
	"context"
	"sync/atomic"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/leader"
)

// ADO is the subset of ado.API the controller calls. *ado.Client satisfies it; tests wrap it to
// inject races (a job assigned between the disable and the re-check of a drain).
type ADO interface {
	FindPool(ctx context.Context, name string) (ado.Pool, error)
	ListAgents(ctx context.Context, poolID int) ([]ado.Agent, error)
	GetAgent(ctx context.Context, poolID, agentID int) (ado.Agent, error)
	AddAgent(ctx context.Context, poolID int, a ado.Agent) (ado.Agent, error)
	SetAgentEnabled(ctx context.Context, poolID, agentID int, enabled bool) (ado.Agent, error)
	DeleteAgent(ctx context.Context, poolID, agentID int) error
	ListJobRequests(ctx context.Context, poolID int) ([]ado.JobRequest, error)
}

var _ ADO = ado.API(nil)

// countingADO counts the calls one reconcile cycle makes, so the API cost per cycle (ADO allows
// 200 TSTU per sliding 5 minutes) is visible as a metric and in the debug log. Before a call that
// changes ADO it checks the leader's term (leader.CheckTerm): ADO takes no fencing token, so a
// leader that was paused past its term must notice by itself before it acts.
type countingADO struct {
	next  ADO
	calls atomic.Int64
}

func (c *countingADO) FindPool(ctx context.Context, name string) (ado.Pool, error) {
	c.calls.Add(1)
	return c.next.FindPool(ctx, name)
}

func (c *countingADO) ListAgents(ctx context.Context, poolID int) ([]ado.Agent, error) {
	c.calls.Add(1)
	return c.next.ListAgents(ctx, poolID)
}

func (c *countingADO) GetAgent(ctx context.Context, poolID, agentID int) (ado.Agent, error) {
	c.calls.Add(1)
	return c.next.GetAgent(ctx, poolID, agentID)
}

func (c *countingADO) AddAgent(ctx context.Context, poolID int, a ado.Agent) (ado.Agent, error) {
	if err := leader.CheckTerm(ctx); err != nil {
		return ado.Agent{}, err
	}
	c.calls.Add(1)
	return c.next.AddAgent(ctx, poolID, a)
}

func (c *countingADO) SetAgentEnabled(ctx context.Context, poolID, agentID int, enabled bool) (ado.Agent, error) {
	if err := leader.CheckTerm(ctx); err != nil {
		return ado.Agent{}, err
	}
	c.calls.Add(1)
	return c.next.SetAgentEnabled(ctx, poolID, agentID, enabled)
}

func (c *countingADO) DeleteAgent(ctx context.Context, poolID, agentID int) error {
	if err := leader.CheckTerm(ctx); err != nil {
		return err
	}
	c.calls.Add(1)
	return c.next.DeleteAgent(ctx, poolID, agentID)
}

func (c *countingADO) ListJobRequests(ctx context.Context, poolID int) ([]ado.JobRequest, error) {
	c.calls.Add(1)
	return c.next.ListJobRequests(ctx, poolID)
}
