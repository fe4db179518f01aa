package sim

import (
	"context"
	"fmt"

	"github.com/adofleet/adofleet/internal/adosim"
)

// agentState is where a simulated agent is.
type agentState int

const (
	agentBooting agentState = iota
	agentIdle               // online, no job
	agentBusy               // running a job
	agentGone               // its process ended
)

// simAgent is the agent process on one instance. It makes the calls the Azure Pipelines agent
// makes (register, session, message, job request update) over ADO's wire contract, with
// adosim's agent client. Unlike adosim.RunAgent it neither polls nor sleeps: the runner steps it
// event by event on the virtual clock, fetching a job's message once the Org has assigned it.
type simAgent struct {
	name      string
	pool      string
	inst      *instance
	state     agentState
	id        int
	sessionID string
	job       adosim.JobMessage // the job while busy
	jobIdx    int               // trace index of the job it runs
}

// register adds the agent with caps and opens its session: it is online. A name already in the
// pool is an error, not a replacement.
func (a *simAgent) register(ctx context.Context, c *adosim.AgentClient, poolID int, caps map[string]string) error {
	id, err := c.AddAgent(ctx, poolID, adosim.AgentRegistration{Name: a.name, ProvisioningState: "Provisioned", Capabilities: caps})
	if err != nil {
		return fmt.Errorf("register agent %q: %w", a.name, err)
	}
	a.id = id
	sessionID, err := c.CreateSession(ctx, poolID, a.id, a.name)
	if err != nil {
		return fmt.Errorf("open session of agent %q: %w", a.name, err)
	}
	a.sessionID = sessionID
	return nil
}

// receive fetches and acknowledges the job message the Org queued for the agent.
func (a *simAgent) receive(ctx context.Context, c *adosim.AgentClient, poolID int) (adosim.JobMessage, error) {
	msg, err := c.GetMessage(ctx, poolID, a.sessionID, 0)
	if err != nil {
		return adosim.JobMessage{}, fmt.Errorf("agent %q: get message: %w", a.name, err)
	}
	if msg == nil {
		return adosim.JobMessage{}, fmt.Errorf("agent %q: get message: got none, want a job", a.name)
	}
	if msg.Type != adosim.JobMessageType {
		return adosim.JobMessage{}, fmt.Errorf("agent %q: get message: got type %q, want a job", a.name, msg.Type)
	}
	jm, err := msg.Job()
	if err != nil {
		return jm, fmt.Errorf("agent %q: decode job message: %w", a.name, err)
	}
	if err := c.DeleteMessage(ctx, poolID, a.sessionID, msg.ID); err != nil {
		return jm, fmt.Errorf("agent %q: acknowledge message: %w", a.name, err)
	}
	return jm, nil
}

// finish ends the agent's job with result.
func (a *simAgent) finish(ctx context.Context, c *adosim.AgentClient, poolID int, result string) error {
	if err := c.UpdateRequest(ctx, poolID, a.job, result); err != nil {
		return fmt.Errorf("agent %q: finish job %d: %w", a.name, a.job.RequestID, err)
	}
	return nil
}

// closeSession takes the agent offline.
func (a *simAgent) closeSession(ctx context.Context, c *adosim.AgentClient, poolID int) error {
	if a.sessionID == "" {
		return nil
	}
	err := c.DeleteSession(ctx, poolID, a.sessionID)
	a.sessionID = ""
	if err != nil {
		return fmt.Errorf("agent %q: close session: %w", a.name, err)
	}
	return nil
}
