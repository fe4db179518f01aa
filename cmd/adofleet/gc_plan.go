package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// gcKind says what one gc step does.
type gcKind int

const (
	gcKeep              gcKind = iota // nothing: reported so the operator sees why it stays
	gcDeleteAgent                     // an offline agent with no live instance: delete it from the pool
	gcRemoveAgent                     // an agent with a live instance or online: disable, re-check, terminate, delete
	gcTerminate                       // an instance with no agent in the pool: terminate it
	gcDeletePlaceholder               // the pool's placeholder agent (--placeholders)
)

// gcStep is one line of gc's plan for a pool.
type gcStep struct {
	kind   gcKind
	target string // "agent NAME", "instance ID", "placeholder NAME"
	reason string
	agent  *ado.Agent
	inst   *provider.Instance
	rec    *store.AgentRecord
}

// verb is what the step does, as printed.
func (s gcStep) verb() string {
	switch s.kind {
	case gcDeleteAgent, gcDeletePlaceholder:
		return "delete"
	case gcRemoveAgent:
		if s.inst != nil {
			return "terminate instance " + s.inst.ID + " and delete"
		}
		return "disable and delete"
	case gcTerminate:
		return "terminate"
	}
	return "keep"
}

// planGC decides, from v alone, what gc does in the pool. Agents adofleet did not create are
// never in the plan (foreign counts them); busy agents and their instances are kept.
func planGC(v *poolView, o gcOptions) (steps []gcStep, foreign int) {
	placeholder := controller.PlaceholderName(v.pool)
	hosted := map[string]bool{} // instance ids whose agent is in the pool
	for i := range v.agents {
		a := &v.agents[i]
		inst := v.instanceOf(a.Name)
		if inst != nil {
			hosted[inst.ID] = true
		}
		bj, busy := v.busy[a.ID]
		job := bj.request
		switch {
		case a.Name == placeholder && busy:
			steps = append(steps, gcStep{kind: gcKeep, target: "placeholder " + a.Name, reason: fmt.Sprintf("busy with job request %d", job)})
		case a.Name == placeholder && o.placeholders:
			steps = append(steps, gcStep{kind: gcDeletePlaceholder, target: "placeholder " + a.Name, agent: a,
				reason: "--placeholders: ADO fails jobs queued in a pool with no agents until serve registers it again"})
		case a.Name == placeholder:
			steps = append(steps, gcStep{kind: gcKeep, target: "placeholder " + a.Name, reason: "keeps ADO from failing queued jobs; --placeholders removes it"})
		case !v.ours(a.Name):
			foreign++
		case busy:
			steps = append(steps, gcStep{kind: gcKeep, target: "agent " + a.Name, inst: inst, reason: fmt.Sprintf("busy with job request %d", job)})
		default:
			steps = append(steps, planAgent(v, a, inst, o))
		}
	}
	for i := range v.insts {
		in := &v.insts[i]
		if hosted[in.ID] {
			continue
		}
		name := agentNameOf(*in)
		if o.terminate {
			steps = append(steps, gcStep{kind: gcTerminate, target: "instance " + in.ID, inst: in, rec: v.recordOf(in),
				reason: fmt.Sprintf("agent %q is not in the pool, --terminate", name)})
		} else {
			steps = append(steps, gcStep{kind: gcKeep, target: "instance " + in.ID, inst: in,
				reason: fmt.Sprintf("agent %q is not in the pool; --terminate removes it", name)})
		}
	}
	return steps, foreign
}

// planAgent is the step for one of our agents that is not busy.
func planAgent(v *poolView, a *ado.Agent, inst *provider.Instance, o gcOptions) gcStep {
	s := gcStep{target: "agent " + a.Name, agent: a, inst: inst, rec: v.recs[a.Name]}
	online := a.Status == ado.AgentOnline
	switch {
	case !online && inst == nil:
		s.kind, s.reason = gcDeleteAgent, "offline, no instance"
	case !o.terminate && online:
		s.kind, s.reason = gcKeep, "online and idle; --terminate removes it"
	case !o.terminate:
		s.kind, s.reason = gcKeep, "offline, but instance "+inst.ID+" still runs; --terminate removes both"
	case online:
		s.kind, s.reason = gcRemoveAgent, "online and idle, --terminate"
	default:
		s.kind, s.reason = gcRemoveAgent, "offline and its instance still runs, --terminate"
	}
	return s
}

// sortSteps puts steps in a stable order for the printed plan: by target (kind, then name).
func sortSteps(steps []gcStep) {
	slices.SortStableFunc(steps, func(a, b gcStep) int { return strings.Compare(a.target, b.target) })
}
