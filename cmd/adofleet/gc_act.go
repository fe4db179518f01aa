package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// gcSummary counts what gc did (or, in a dry run, would do).
type gcSummary struct {
	agents, placeholders, instances int
	kept, foreign, failed           int
}

// gcRun carries out the plans of one gc invocation and prints one line per step.
type gcRun struct {
	o      gcOptions
	client ado.API
	st     store.Store
	out    io.Writer
	log    *slog.Logger
	now    func() time.Time
	sum    gcSummary
}

// gcPoolRun is one pool's part of a run.
type gcPoolRun struct {
	*gcRun
	v    *poolView
	prov provider.Provider
}

// pool observes, plans and acts on one pool. Each step's failure is reported and counted; the
// other steps still run.
func (g *gcRun) pool(ctx context.Context, name, controllerID string, prov provider.Provider) {
	v, err := observePool(ctx, g.client, prov, g.st, name, controllerID)
	if err != nil {
		g.sum.failed++
		fmt.Fprintf(g.out, "%s: read the pool: failed: %v\n", name, err)
		return
	}
	if v.poolID == 0 {
		fmt.Fprintf(g.out, "%s: no such pool in Azure DevOps: no agents to delete\n", name)
	}
	steps, foreign := planGC(v, g.o)
	sortSteps(steps)
	g.sum.foreign += foreign
	p := &gcPoolRun{gcRun: g, v: v, prov: prov}
	for _, s := range steps {
		p.step(ctx, s)
	}
}

// step runs one step and prints its line: "pool: verb target (reason): result".
func (p *gcPoolRun) step(ctx context.Context, s gcStep) {
	line := fmt.Sprintf("%s: %s %s (%s)", p.v.pool, s.verb(), s.target, s.reason)
	if s.kind == gcKeep {
		p.sum.kept++
		fmt.Fprintln(p.out, line)
		return
	}
	if p.o.dryRun() {
		p.count(s)
		fmt.Fprintln(p.out, line+": dry run")
		return
	}
	var kept string
	var err error
	switch s.kind {
	case gcDeleteAgent, gcDeletePlaceholder:
		err = p.deleteAgent(ctx, s)
	case gcRemoveAgent:
		kept, err = p.removeAgent(ctx, s)
	case gcTerminate:
		err = p.terminate(ctx, s.inst)
	}
	switch {
	case err != nil:
		p.sum.failed++
		p.log.Warn("gc step failed", "pool", p.v.pool, "target", s.target, "err", err)
		fmt.Fprintf(p.out, "%s: failed: %v\n", line, err)
		return
	case kept != "":
		p.sum.kept++
		fmt.Fprintf(p.out, "%s: kept: %s\n", line, kept)
		return
	}
	p.count(s)
	if err := p.closeRecord(ctx, s); err != nil {
		p.sum.failed++
		fmt.Fprintf(p.out, "%s: done, but failed: %v\n", line, err)
		return
	}
	fmt.Fprintln(p.out, line+": done")
}

// count adds a step that did (or would do) its work to the summary.
func (p *gcPoolRun) count(s gcStep) {
	switch s.kind {
	case gcDeletePlaceholder:
		p.sum.placeholders++
	case gcDeleteAgent:
		p.sum.agents++
	case gcRemoveAgent:
		p.sum.agents++
		if s.inst != nil {
			p.sum.instances++
		}
	case gcTerminate:
		p.sum.instances++
	}
}

// deleteAgent deletes an agent that cannot take a job: offline with no instance, or the
// placeholder.
func (p *gcPoolRun) deleteAgent(ctx context.Context, s gcStep) error {
	if err := leader.CheckTerm(ctx); err != nil {
		return err
	}
	if err := p.client.DeleteAgent(ctx, p.v.poolID, s.agent.ID); err != nil {
		return fmt.Errorf("delete agent %d: %w", s.agent.ID, err)
	}
	return nil
}

// removeAgent follows the controller's drain protocol: disable the agent so ADO assigns it
// nothing more, re-read it, and only if it still has no job terminate its instance and delete
// it. An agent that took a job in between is enabled again and kept (kept says why).
func (p *gcPoolRun) removeAgent(ctx context.Context, s gcStep) (kept string, err error) {
	a := s.agent
	if err := leader.CheckTerm(ctx); err != nil {
		return "", err
	}
	if _, err := p.client.SetAgentEnabled(ctx, p.v.poolID, a.ID, false); err != nil {
		return "", fmt.Errorf("disable agent %d: %w", a.ID, err)
	}
	got, err := p.client.GetAgent(ctx, p.v.poolID, a.ID)
	gone := errors.Is(err, ado.ErrNotFound)
	switch {
	case err != nil && !gone:
		return "", p.reenable(ctx, a, fmt.Errorf("re-check agent %d: %w", a.ID, err))
	case !gone && got.AssignedRequest != nil:
		if err := p.reenable(ctx, a, nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("it took job request %d before it could be removed", got.AssignedRequest.RequestID), nil
	}
	if s.inst != nil {
		if err := p.terminate(ctx, s.inst); err != nil {
			return "", p.reenable(ctx, a, err)
		}
	}
	if gone {
		return "", nil
	}
	if err := leader.CheckTerm(ctx); err != nil {
		return "", err
	}
	if err := p.client.DeleteAgent(ctx, p.v.poolID, a.ID); err != nil {
		return "", fmt.Errorf("delete agent %d: %w", a.ID, err)
	}
	return "", nil
}

// reenable gives back an agent gc disabled but will not remove, and returns cause (or the
// re-enable's own failure joined to it).
func (p *gcPoolRun) reenable(ctx context.Context, a *ado.Agent, cause error) error {
	if _, err := p.client.SetAgentEnabled(ctx, p.v.poolID, a.ID, true); err != nil {
		return errors.Join(cause, fmt.Errorf("enable agent %d again: %w", a.ID, err))
	}
	return cause
}

// terminate stops one instance; one already gone is not an error (the Provider contract).
func (p *gcPoolRun) terminate(ctx context.Context, in *provider.Instance) error {
	if err := leader.CheckTerm(ctx); err != nil {
		return err
	}
	if err := p.prov.Terminate(ctx, []string{in.ID}); err != nil {
		return fmt.Errorf("terminate instance %s: %w", in.ID, err)
	}
	return nil
}

// closeRecord marks the record of what was removed gone, as the controller does, and appends
// the decision to the pool's history. The placeholder has no record.
func (p *gcPoolRun) closeRecord(ctx context.Context, s gcStep) error {
	// Targets as the controller records them: the agent's name, or the instance's id.
	action, target := scaler.ActionDelete, ""
	switch {
	case s.agent != nil:
		target = s.agent.Name
	case s.inst != nil:
		action, target = scaler.ActionTerminate, s.inst.ID
	}
	d := store.Decision{Time: p.now(), Pool: p.v.pool, Action: action, Target: target, Reason: "adofleet gc: " + s.reason}
	if err := p.st.AppendDecision(ctx, d); err != nil {
		// The removal happened; a lost history line is not worth a failure.
		p.log.Warn("record the gc decision", "target", target, "err", err)
	}
	rec := s.rec
	if rec == nil || rec.State == store.StateGone {
		return nil
	}
	mark := func(r store.AgentRecord) store.AgentRecord {
		r.State, r.Reason, r.UpdatedAt = store.StateGone, "adofleet gc: "+s.reason, p.now()
		return r
	}
	_, err := p.st.UpdateAgent(ctx, mark(*rec))
	if errors.Is(err, store.ErrConflict) {
		fresh, gerr := p.st.GetAgent(ctx, rec.Name)
		if gerr != nil {
			return fmt.Errorf("store: re-read agent %q after conflict: %w", rec.Name, gerr)
		}
		_, err = p.st.UpdateAgent(ctx, mark(fresh))
	}
	if err != nil {
		return fmt.Errorf("store: mark agent %q gone: %w", rec.Name, err)
	}
	return nil
}

// String is the closing summary line.
func (s gcSummary) String(dryRun bool) string {
	done := fmt.Sprintf("deleted %s and %s, terminated %s", gcCount(s.agents, "agent"), gcCount(s.placeholders, "placeholder"), gcCount(s.instances, "instance"))
	if dryRun {
		done = fmt.Sprintf("would delete %s and %s, terminate %s", gcCount(s.agents, "agent"), gcCount(s.placeholders, "placeholder"), gcCount(s.instances, "instance"))
	}
	out := fmt.Sprintf("gc: %s; kept %d; %d failed; left alone %s adofleet did not create", done, s.kept, s.failed, gcCount(s.foreign, "agent"))
	if dryRun {
		out += "; dry run: nothing was changed"
	}
	return out
}

// gcCount is "1 agent", "2 agents".
func gcCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
