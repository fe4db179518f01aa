package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller/fleetops"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// gcSummary counts what gc did (or, in a dry run, would do).
type gcSummary struct {
	agents, placeholders, instances, records int
	kept, foreign, failed                    int
}

// gcRun carries out the plans of one gc invocation (internal/controller/fleetops decides and
// acts) and prints one line per step.
type gcRun struct {
	o      gcOptions
	client ado.API
	st     store.Store
	out    io.Writer
	log    *slog.Logger
	now    func() time.Time
	sum    gcSummary
}

// pool observes, plans and acts on one pool. Each step's failure is reported and counted; the
// other steps still run.
func (g *gcRun) pool(ctx context.Context, p config.Pool, controllerID string, prov provider.Provider) {
	name := p.Name
	v, err := fleetops.Observe(ctx, fleetops.Deps{ADO: g.client, Provider: prov, Store: g.st, ControllerID: controllerID}, name)
	if err != nil {
		g.sum.failed++
		fmt.Fprintf(g.out, "%s: read the pool: failed: %v\n", name, err)
		return
	}
	if !v.InADO() {
		fmt.Fprintf(g.out, "%s: no such pool in Azure DevOps: no agents to delete\n", name)
	}
	plan := fleetops.PlanGC(v, fleetops.GCOptions{Placeholders: g.o.placeholders, Terminate: g.o.terminate,
		Now: g.now(), RegistrationTimeout: p.RegistrationTimeout.D()})
	g.sum.foreign += plan.Foreign
	d := fleetops.GCDeps{ADO: g.client, Provider: prov, Store: g.st, Log: g.log, Now: g.now}
	for _, s := range plan.Steps {
		g.step(ctx, d, v, s)
	}
}

// step runs one step and prints its line: "pool: verb target (reason): result".
func (g *gcRun) step(ctx context.Context, d fleetops.GCDeps, v *fleetops.PoolView, s fleetops.Step) {
	line := fmt.Sprintf("%s: %s %s (%s)", v.Pool(), s.Verb(), s.Target, s.Reason)
	if s.Kind == fleetops.StepKeep {
		g.sum.kept++
		fmt.Fprintln(g.out, line)
		return
	}
	if g.o.dryRun() {
		g.count(s)
		fmt.Fprintln(g.out, line+": dry run")
		return
	}
	r := fleetops.ApplyStep(ctx, d, v, s)
	switch {
	case r.Err != nil:
		g.sum.failed++
		g.log.Warn("gc step failed", "pool", v.Pool(), "target", s.Target, "err", r.Err)
		fmt.Fprintf(g.out, "%s: failed: %v\n", line, r.Err)
		return
	case r.Kept != "":
		g.sum.kept++
		fmt.Fprintf(g.out, "%s: kept: %s\n", line, r.Kept)
		return
	}
	g.count(s)
	if r.RecordErr != nil {
		g.sum.failed++
		fmt.Fprintf(g.out, "%s: done, but failed: %v\n", line, r.RecordErr)
		return
	}
	fmt.Fprintln(g.out, line+": done")
}

// count adds a step that did (or would do) its work to the summary.
func (g *gcRun) count(s fleetops.Step) {
	switch s.Kind {
	case fleetops.StepDeletePlaceholder:
		g.sum.placeholders++
	case fleetops.StepDeleteAgent:
		g.sum.agents++
	case fleetops.StepRemoveAgent:
		g.sum.agents++
		if s.Inst != nil {
			g.sum.instances++
		}
	case fleetops.StepTerminate:
		g.sum.instances++
	case fleetops.StepCloseRecord:
		g.sum.records++
	}
}

// String is the closing summary line.
func (s gcSummary) String(dryRun bool) string {
	done := fmt.Sprintf("deleted %s and %s, terminated %s", gcCount(s.agents, "agent"), gcCount(s.placeholders, "placeholder"), gcCount(s.instances, "instance"))
	if dryRun {
		done = fmt.Sprintf("would delete %s and %s, terminate %s", gcCount(s.agents, "agent"), gcCount(s.placeholders, "placeholder"), gcCount(s.instances, "instance"))
	}
	if s.records > 0 { // records whose agent and instance were gone already: marked gone
		verb := "closed"
		if dryRun {
			verb = "close"
		}
		done += fmt.Sprintf(", %s %s", verb, gcCount(s.records, "lost record"))
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
