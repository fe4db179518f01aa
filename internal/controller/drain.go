package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/crashpoint"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// drain scales in each planned agent: disable it in ADO, record StateDraining, re-read it, and
// only if it still has no assigned request terminate its instance, delete it and record it gone.
// An agent that took a job in the meantime is re-enabled and kept.
func (cy *cycle) drain(ctx context.Context, steps []scaler.Step) {
	for _, s := range steps {
		agent, ok := cy.stepAgent(s)
		if !ok {
			cy.log.Warn("drain skipped: agent not in the pool", "agent", s.Target)
			continue
		}
		rec := cy.obs.recByName[agent.Name]
		switch {
		case agent.Name == cy.obs.placeholder:
			cy.log.Warn("drain skipped: the placeholder agent is never removed", "agent", agent.Name)
			continue
		case agent.AssignedRequest != nil:
			cy.log.Warn("drain skipped: agent has an assigned request", "agent", agent.Name)
			continue
		case rec == nil:
			cy.log.Warn("drain skipped: agent was not created by this controller", "agent", agent.Name)
			continue
		case rec.State == store.StateDraining:
			continue // resumeDrains carries it on
		}
		if _, err := cy.ado.SetAgentEnabled(ctx, cy.poolID, agent.ID, false); err != nil {
			cy.fail(fmt.Errorf("drain %q: disable agent: %w", agent.Name, err))
			continue
		}
		crashpoint.Hit("drain.after-disable")
		id := agent.ID
		if err := cy.update(ctx, rec, func(r *store.AgentRecord) {
			r.State, r.Reason, r.AgentID = store.StateDraining, s.Reason, id
		}); err != nil {
			cy.fail(fmt.Errorf("drain %q: %w", agent.Name, err))
			// Not recorded, so not drained: give the agent back rather than strand it disabled.
			if _, eerr := cy.ado.SetAgentEnabled(ctx, cy.poolID, agent.ID, true); eerr != nil {
				cy.fail(fmt.Errorf("drain %q: re-enable after failed record: %w", agent.Name, eerr))
			}
			continue
		}
		crashpoint.Hit("drain.after-record")
		cy.decide(ctx, scaler.ActionDrain, agent.Name, s.Reason)
		cy.finishDrain(ctx, rec, agent.ID)
	}
}

// resumeDrains carries on the drains an earlier cycle started but did not finish.
func (cy *cycle) resumeDrains(ctx context.Context) {
	for _, rec := range cy.obs.recs {
		if rec.State != store.StateDraining {
			continue
		}
		agent, inADO := cy.agentByName(rec.Name)
		if !inADO {
			if cy.terminate(ctx, rec) && cy.markGone(ctx, rec, "drained: "+rec.Reason) {
				cy.res.Drained++
			}
			continue
		}
		cy.finishDrain(ctx, rec, agent.ID)
	}
}

// finishDrain is the part of the protocol after the agent was disabled and recorded draining.
// Each failure leaves the record draining, so the next cycle resumes from the re-check.
func (cy *cycle) finishDrain(ctx context.Context, rec *store.AgentRecord, agentID int) {
	a, err := cy.ado.GetAgent(ctx, cy.poolID, agentID)
	gone := errors.Is(err, ado.ErrNotFound)
	if err != nil && !gone {
		cy.fail(fmt.Errorf("drain %q: re-check agent: %w", rec.Name, err))
		return
	}
	if !gone && a.AssignedRequest != nil {
		cy.abortDrain(ctx, rec, a)
		return
	}
	if !cy.terminate(ctx, rec) {
		return
	}
	crashpoint.Hit("drain.after-terminate")
	if !gone {
		if err := cy.ado.DeleteAgent(ctx, cy.poolID, agentID); err != nil {
			cy.fail(fmt.Errorf("drain %q: delete agent: %w", rec.Name, err))
			return
		}
		crashpoint.Hit("drain.after-delete")
	}
	if cy.markGone(ctx, rec, "drained: "+rec.Reason) {
		cy.res.Drained++
		cy.log.Debug("drain complete", "agent", rec.Name)
	}
}

// abortDrain gives back an agent that took a job between the disable and the re-check.
func (cy *cycle) abortDrain(ctx context.Context, rec *store.AgentRecord, a ado.Agent) {
	if _, err := cy.ado.SetAgentEnabled(ctx, cy.poolID, a.ID, true); err != nil {
		cy.fail(fmt.Errorf("drain %q: re-enable busy agent: %w", rec.Name, err))
		return
	}
	reason := fmt.Sprintf("agent took job %d before it could be removed", a.AssignedRequest.RequestID)
	if err := cy.update(ctx, rec, toState(store.StateRegistered, reason)); err != nil {
		cy.fail(fmt.Errorf("drain %q: %w", rec.Name, err))
		return
	}
	cy.res.DrainsAborted++
	cy.decide(ctx, ActionDrainAborted, rec.Name, reason)
}

// terminate stops rec's instance if it has one; false if the provider failed.
func (cy *cycle) terminate(ctx context.Context, rec *store.AgentRecord) bool {
	id := cy.instanceIDOf(rec)
	if id == "" {
		return true
	}
	if err := cy.terminateIDs(ctx, []string{id}); err != nil {
		cy.fail(fmt.Errorf("provider %q: terminate instance %s of agent %q: %w", cy.p.cfg.Provider, id, rec.Name, err))
		return false
	}
	return true
}

// deleteStale deletes agents the controller created that are offline and not busy: those with
// no instance, and finished one-job agents (whose lingering instance is terminated first).
func (cy *cycle) deleteStale(ctx context.Context, steps []scaler.Step) {
	for _, s := range steps {
		agent, ok := cy.stepAgent(s)
		if !ok {
			continue
		}
		rec := cy.obs.recByName[agent.Name]
		switch {
		case agent.Name == cy.obs.placeholder, agent.AssignedRequest != nil, rec == nil:
			cy.log.Warn("delete skipped: agent is the placeholder, busy, or not ours", "agent", agent.Name)
			continue
		}
		// A finished one-job agent may still have its instance: it is offline and has no job, so
		// the instance is stopped first, leaving nothing that could register the name again.
		if !cy.terminate(ctx, rec) {
			continue
		}
		crashpoint.Hit("stale.after-terminate")
		if err := cy.ado.DeleteAgent(ctx, cy.poolID, agent.ID); err != nil {
			cy.fail(fmt.Errorf("delete stale agent %q: %w", agent.Name, err))
			continue
		}
		crashpoint.Hit("stale.after-delete")
		cy.res.AgentsDeleted++
		cy.decide(ctx, scaler.ActionDelete, agent.Name, s.Reason)
		if rec.State != store.StateGone {
			cy.markGone(ctx, rec, "agent deleted: "+s.Reason)
		}
	}
}

// terminateOrphans terminates instances whose agent never came online, in one provider call.
func (cy *cycle) terminateOrphans(ctx context.Context, steps []scaler.Step) {
	var ids []string
	var kept []scaler.Step
	for _, s := range steps {
		id := s.InstanceID
		if id == "" {
			id = s.Target
		}
		if a, ok := cy.agentOfInstance(id); ok && a.AssignedRequest != nil {
			cy.log.Warn("terminate skipped: instance hosts a busy agent", "instance", id, "agent", a.Name)
			continue
		}
		ids = append(ids, id)
		kept = append(kept, s)
	}
	if len(ids) == 0 {
		return
	}
	if err := cy.terminateIDs(ctx, ids); err != nil {
		cy.fail(fmt.Errorf("provider %q: terminate %s: %w", cy.p.cfg.Provider, plural(len(ids), "orphan instance"), err))
		return
	}
	crashpoint.Hit("orphan.after-terminate")
	for i, s := range kept {
		cy.res.Terminated++
		cy.decide(ctx, scaler.ActionTerminate, ids[i], s.Reason)
		cy.orphanTerminated(ctx, ids[i], s.Reason)
		if rec := cy.recordOfInstance(ids[i]); rec != nil && rec.State != store.StateGone {
			cy.markGone(ctx, rec, "orphan instance terminated: "+s.Reason)
		}
	}
}

// stepAgent finds the observed agent a step names, by id, then by name.
func (cy *cycle) stepAgent(s scaler.Step) (ado.Agent, bool) {
	for _, a := range cy.obs.agentList {
		if (s.AgentID != 0 && a.ID == s.AgentID) || (s.AgentID == 0 && a.Name == s.Target) {
			return a, true
		}
	}
	return ado.Agent{}, false
}

// agentOfInstance returns the observed ADO agent hosted by instance id.
func (cy *cycle) agentOfInstance(id string) (ado.Agent, bool) {
	if in := cy.obs.firstInstance(id); in != nil {
		return cy.agentByName(agentNameOf(*in))
	}
	return ado.Agent{}, false
}

// recordOfInstance returns the store record of instance id, by recorded id, then by agent tag.
func (cy *cycle) recordOfInstance(id string) *store.AgentRecord {
	for _, r := range cy.obs.recs {
		if r.InstanceID == id {
			return r
		}
	}
	if in := cy.obs.firstInstance(id); in != nil {
		return cy.obs.recByName[agentNameOf(*in)]
	}
	return nil
}
