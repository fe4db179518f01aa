package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// Result is what one reconcile cycle observed and did.
type Result struct {
	Pool string
	// Observed is false when the cycle failed before its observation was complete; Counts and Plan
	// are then empty.
	Observed bool
	Counts   Counts
	Plan     scaler.Actions
	// Launched counts the agents the provider started this cycle, Resumed those of them that were
	// launches left in StateLaunching by an earlier cycle.
	Launched      int
	Resumed       int
	LaunchFailed  int
	Drained       int
	DrainsAborted int
	AgentsDeleted int
	Terminated    int
	// RecordsGone counts records closed because their agent and instance had both disappeared.
	RecordsGone int
	// ADOCalls is the number of ADO REST calls the cycle made.
	ADOCalls int
}

// Counts are a pool's jobs and agents as one cycle observed them.
type Counts struct {
	QueuedJobs  int
	RunningJobs int
	Agents      AgentCounts
}

// AgentCounts counts a pool's agents by state. The placeholder agent is not counted.
type AgentCounts struct {
	Starting int // launched (or being launched), not registered in ADO yet
	Idle     int // online, enabled, no job
	Busy     int // has an assigned request
	Draining int // disabled by the controller on the way out
	Offline  int // registered and offline
}

// cycle is the state of one reconcile of one pool.
type cycle struct {
	c   *Controller
	p   *pool
	ado *countingADO
	log *slog.Logger
	now time.Time

	poolID int
	sc     *scratch     // this cycle's reusable memory, back to the pool at release (scratch.go)
	obs    *observation // &sc.obs
	res    Result
	errs   []error
}

// newCycle starts a cycle of p with memory from the scratch pool; release returns it.
func (c *Controller) newCycle(p *pool) *cycle {
	sc := scratches.Get().(*scratch)
	return &cycle{
		c:   c,
		p:   p,
		ado: &countingADO{next: c.opts.ADO},
		log: p.log,
		sc:  sc,
		obs: &sc.obs,
		now: c.opts.Now(),
		res: Result{Pool: p.cfg.Name},
	}
}

// run is one cycle: observe, settle the records, plan, act.
func (cy *cycle) run(ctx context.Context) (Result, error) {
	if err := cy.observe(ctx); err != nil {
		return cy.res, err
	}
	cy.ensurePlaceholder(ctx)
	cy.settle(ctx)
	cy.res.Observed = true
	cy.res.Counts = cy.obs.counts()

	snap := cy.obs.snapshot(cy.p.cfg.Name, cy.p.cfg.Policy, cy.now)
	plan := cy.sc.planner.Plan(snap, cy.p.cfg.Policy, cy.now)
	cy.res.Plan = plan

	// Removals first, so the capacity they free is not also counted against new launches.
	cy.terminateOrphans(ctx, plan.Terminate)
	cy.deleteStale(ctx, plan.DeleteAgents)
	cy.resumeDrains(ctx)
	cy.drain(ctx, plan.Drain)
	cy.launch(ctx, plan.Launch, plan.LaunchReason)
	cy.alertWaits(ctx)
	cy.alertAtMax(ctx, snap)
	return cy.res, errors.Join(cy.errs...)
}

// fail records a failed step: logged, joined into the cycle's error, retried next cycle.
func (cy *cycle) fail(err error) {
	cy.errs = append(cy.errs, err)
	cy.log.Warn("step failed; retrying next cycle", "err", err)
}

// decide appends a decision to the store and logs it as one readable line.
func (cy *cycle) decide(ctx context.Context, action, target, reason string) {
	cy.c.m.decisions.WithLabelValues(cy.p.cfg.Name, action).Inc()
	cy.log.Info(action+" "+target+": "+reason, "action", action, "target", target)
	d := store.Decision{Time: cy.now, Pool: cy.p.cfg.Name, Action: action, Target: target, Reason: reason}
	if err := cy.c.opts.Store.AppendDecision(ctx, d); err != nil {
		// The action itself happened; a lost history line is not worth failing the cycle for.
		cy.log.Warn("recording decision failed", "action", action, "err", err)
	}
}

// update applies mutate to rec and writes it (store.MutateAgent: once more on a conflict, to the
// re-read record). On success *rec is the stored record.
func (cy *cycle) update(ctx context.Context, rec *store.AgentRecord, mutate func(*store.AgentRecord)) error {
	stored, err := store.MutateAgent(ctx, cy.c.opts.Store, *rec, func(r *store.AgentRecord) {
		mutate(r)
		r.UpdatedAt = cy.now
	})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	*rec = stored
	return nil
}

// toState is the common mutation: a new state with its reason.
func toState(s store.AgentState, reason string) func(*store.AgentRecord) {
	return func(r *store.AgentRecord) {
		r.State = s
		r.Reason = reason
	}
}

// markGone closes rec with reason and logs the failure if the write fails.
func (cy *cycle) markGone(ctx context.Context, rec *store.AgentRecord, reason string) bool {
	if err := cy.update(ctx, rec, toState(store.StateGone, reason)); err != nil {
		cy.fail(err)
		return false
	}
	return true
}

// instanceIDOf returns the id of rec's instance that may still need terminating: the live one
// found by tag, "" if the provider lists it as ended, else the recorded id (the provider may not
// list it yet; terminating an instance that is gone is not an error).
func (cy *cycle) instanceIDOf(rec *store.AgentRecord) string {
	if inst := cy.obs.instanceFor(rec); inst != nil {
		if inst.State.Alive() {
			return inst.ID
		}
		return ""
	}
	return rec.InstanceID
}

// agentByName returns the observed ADO agent called name.
func (cy *cycle) agentByName(name string) (ado.Agent, bool) {
	i, ok := cy.obs.agents[name]
	if !ok {
		return ado.Agent{}, false
	}
	return cy.obs.agentList[i], true
}
