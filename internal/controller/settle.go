package controller

import (
	"context"
	"fmt"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/store"
)

// settle brings the store's records in line with what was observed, before the plan: launches
// whose instance or agent appeared advance, launches a crash left in StateLaunching are re-issued
// with their original token, records whose agent and instance are both gone are closed, and old
// gone records are pruned. A registered record also takes the id of the job its agent runs.
func (cy *cycle) settle(ctx context.Context) {
	resume := map[string][]*store.AgentRecord{} // launch token -> records to re-issue
	var tokens []string
	for _, rec := range cy.obs.recs {
		agent, registered := cy.agentByName(rec.Name)
		inst := cy.obs.instanceFor(rec)
		switch rec.State {
		case store.StateGone:
			cy.prune(ctx, rec)
			continue
		case store.StateLaunching:
			if inst == nil && !registered {
				if len(resume[rec.LaunchToken]) == 0 {
					tokens = append(tokens, rec.LaunchToken)
				}
				resume[rec.LaunchToken] = append(resume[rec.LaunchToken], rec)
				continue
			}
			if inst != nil {
				// The provider started it but the crash came before the result was recorded.
				id := inst.ID
				if err := cy.update(ctx, rec, func(r *store.AgentRecord) {
					r.State, r.InstanceID, r.Reason = store.StateLaunched, id, "instance found after restart"
				}); err != nil {
					cy.fail(err)
					continue
				}
			}
		}
		switch rec.State {
		case store.StateLaunched, store.StateLaunching:
			if registered {
				id, job := agent.ID, runningJob(agent, rec)
				if err := cy.update(ctx, rec, func(r *store.AgentRecord) {
					r.State, r.AgentID, r.RegisteredAt, r.Reason = store.StateRegistered, id, cy.now, "agent registered"
					if job != 0 {
						r.JobRequestID = job
					}
				}); err != nil {
					cy.fail(err)
				}
				continue
			}
			if !cy.obs.launchPending(rec, cy.p.cfg.Policy, cy.now) && (inst == nil || !inst.State.Alive()) {
				cy.closeVanished(ctx, rec, ActionStartFailed, "instance ended before its agent registered")
			}
		case store.StateRegistered:
			switch {
			case !registered && (inst == nil || !inst.State.Alive()):
				cy.closeVanished(ctx, rec, ActionForget, "agent and instance both gone")
			case registered && !agent.Enabled && agent.AssignedRequest == nil:
				// Only a drain disables our agents: this one was interrupted between the disable
				// and its record. Left alone it would hold a slot forever (disabled agents are
				// neither supply nor drained), so the drain is resumed from its re-check.
				if err := cy.update(ctx, rec, toState(store.StateDraining, "found disabled: resuming an interrupted drain")); err != nil {
					cy.fail(err)
				}
			case registered:
				if job := runningJob(agent, rec); job != 0 {
					if err := cy.update(ctx, rec, func(r *store.AgentRecord) { r.JobRequestID = job }); err != nil {
						cy.fail(err)
					}
				}
			}
		}
	}
	for _, tok := range tokens {
		cy.resumeLaunch(ctx, tok, resume[tok])
	}
}

// runningJob is the job request agent runs when rec does not name it yet, else 0: a record is
// written once per job it is seen running, for the agent's history (the dashboard's job column).
// A job that starts and ends between two cycles is never seen.
func runningJob(agent ado.Agent, rec *store.AgentRecord) int64 {
	if a := agent.AssignedRequest; a != nil && a.RequestID != rec.JobRequestID {
		return a.RequestID
	}
	return 0
}

// closeVanished marks rec gone because its agent and instance have both disappeared, recording the
// instance's own reason (e.g. an ECS stop reason such as CannotPullContainerError) so it shows in
// the decisions on the dashboard.
func (cy *cycle) closeVanished(ctx context.Context, rec *store.AgentRecord, action, reason string) {
	if inst := cy.obs.instanceFor(rec); inst != nil && inst.Reason != "" {
		reason += ": " + inst.Reason
	}
	if cy.markGone(ctx, rec, reason) {
		cy.res.RecordsGone++
		cy.decide(ctx, action, rec.Name, reason)
		if action == ActionStartFailed {
			cy.agentStartFailed(ctx, rec.Name, reason)
		}
	}
}

// prune deletes a gone record once it is older than the retention.
func (cy *cycle) prune(ctx context.Context, rec *store.AgentRecord) {
	if cy.now.Sub(rec.UpdatedAt) < cy.c.opts.GoneRetention {
		return
	}
	if _, inADO := cy.agentByName(rec.Name); inADO {
		return // keep it while the agent exists, so the agent stays ours
	}
	if err := cy.c.opts.Store.DeleteAgent(ctx, rec.Name); err != nil {
		cy.fail(fmt.Errorf("store: prune agent %q: %w", rec.Name, err))
	}
}
