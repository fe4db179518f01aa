package fleetops

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// StepKind says what one gc step does.
type StepKind int

const (
	StepKeep              StepKind = iota // nothing: reported so the operator sees why it stays
	StepDeleteAgent                       // an offline agent with no live instance: delete it from the pool
	StepRemoveAgent                       // an agent with a live instance or online: disable, re-check, terminate, delete
	StepTerminate                         // an instance with no agent in the pool: terminate it
	StepDeletePlaceholder                 // the pool's placeholder agent (GCOptions.Placeholders)
	StepCloseRecord                       // a record whose agent and instance are both gone: mark it gone
)

// Step is one line of gc's plan for a pool.
type Step struct {
	Kind   StepKind
	Target string // "agent NAME", "instance ID", "placeholder NAME", "record NAME"
	Reason string
	Agent  *ado.Agent         // the agent it removes or keeps, if any
	Inst   *provider.Instance // the instance it terminates or keeps, if any
	Record *store.AgentRecord // the record it marks gone once done, if any
}

// Verb is what the step does, as printed.
func (s Step) Verb() string {
	switch s.Kind {
	case StepDeleteAgent, StepDeletePlaceholder:
		return "delete"
	case StepRemoveAgent:
		if s.Inst != nil {
			return "terminate instance " + s.Inst.ID + " and delete"
		}
		return "disable and delete"
	case StepTerminate:
		return "terminate"
	case StepCloseRecord:
		return "mark gone"
	}
	return "keep"
}

// GCOptions are what gc may remove beyond adofleet's offline agents.
type GCOptions struct {
	Placeholders bool // also the pool's placeholder agent
	Terminate    bool // also adofleet's instances, and their idle agents
	// Now and RegistrationTimeout date a launching or launched record: one with neither agent nor
	// instance is closed only once older than the pool's registration timeout (before that its
	// launch may be in flight). Zero Now closes none of them.
	Now                 time.Time
	RegistrationTimeout time.Duration
}

// GCPlan is what gc does in one pool.
type GCPlan struct {
	Steps   []Step // sorted by target
	Foreign int    // agents adofleet did not create: never in Steps
}

// PlanGC decides, from v alone, what gc does in the pool. Agents adofleet did not create are
// never in the plan (Foreign counts them); busy agents and their instances are kept.
func PlanGC(v *PoolView, o GCOptions) GCPlan {
	var p GCPlan
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
			p.Steps = append(p.Steps, Step{Kind: StepKeep, Target: "placeholder " + a.Name, Reason: fmt.Sprintf("busy with job request %d", job)})
		case a.Name == placeholder && o.Placeholders:
			p.Steps = append(p.Steps, Step{Kind: StepDeletePlaceholder, Target: "placeholder " + a.Name, Agent: a,
				Reason: "--placeholders: ADO fails jobs queued in a pool with no agents until serve registers it again"})
		case a.Name == placeholder:
			p.Steps = append(p.Steps, Step{Kind: StepKeep, Target: "placeholder " + a.Name, Reason: "keeps ADO from failing queued jobs; --placeholders removes it"})
		case !v.ours(a.Name):
			p.Foreign++
		case busy:
			p.Steps = append(p.Steps, Step{Kind: StepKeep, Target: "agent " + a.Name, Inst: inst, Reason: fmt.Sprintf("busy with job request %d", job)})
		default:
			p.Steps = append(p.Steps, planAgent(v, a, inst, o))
		}
	}
	for i := range v.insts {
		in := &v.insts[i]
		if hosted[in.ID] {
			continue
		}
		name := agentNameOf(*in)
		if o.Terminate {
			p.Steps = append(p.Steps, Step{Kind: StepTerminate, Target: "instance " + in.ID, Inst: in, Record: v.recordOf(in),
				Reason: fmt.Sprintf("agent %q is not in the pool, --terminate", name)})
		} else {
			p.Steps = append(p.Steps, Step{Kind: StepKeep, Target: "instance " + in.ID, Inst: in,
				Reason: fmt.Sprintf("agent %q is not in the pool; --terminate removes it", name)})
		}
	}
	p.Steps = append(p.Steps, lostRecords(v, o)...)
	// A stable order for the printed plan: by target (kind, then name).
	slices.SortStableFunc(p.Steps, func(a, b Step) int { return strings.Compare(a.Target, b.Target) })
	return p
}

// planAgent is the step for one of our agents that is not busy.
func planAgent(v *PoolView, a *ado.Agent, inst *provider.Instance, o GCOptions) Step {
	s := Step{Target: "agent " + a.Name, Agent: a, Inst: inst, Record: v.recs[a.Name]}
	online := a.Status == ado.AgentOnline
	switch {
	case !online && inst == nil:
		s.Kind, s.Reason = StepDeleteAgent, "offline, no instance"
	case !o.Terminate && online:
		s.Kind, s.Reason = StepKeep, "online and idle; --terminate removes it"
	case !o.Terminate:
		s.Kind, s.Reason = StepKeep, "offline, but instance "+inst.ID+" still runs; --terminate removes both"
	case online:
		s.Kind, s.Reason = StepRemoveAgent, "online and idle, --terminate"
	default:
		s.Kind, s.Reason = StepRemoveAgent, "offline and its instance still runs, --terminate"
	}
	return s
}

// lostRecords are the steps closing the records whose agent is not in the pool and whose
// instance the provider no longer lists (status flags them "lost"): the controller would mark
// them gone on its next cycle, but gc runs when there is none.
func lostRecords(v *PoolView, o GCOptions) []Step {
	inPool := make(map[string]bool, len(v.agents))
	for i := range v.agents {
		inPool[v.agents[i].Name] = true
	}
	var steps []Step
	for _, rec := range v.recs {
		if rec.State.Terminal() || inPool[rec.Name] || v.instanceOf(rec.Name) != nil {
			continue
		}
		starting := rec.State == store.StateLaunching || rec.State == store.StateLaunched
		if starting && (o.Now.IsZero() || !pastTimeout(o.Now, o.RegistrationTimeout, time.Time{}, rec)) {
			continue
		}
		steps = append(steps, Step{Kind: StepCloseRecord, Target: "record " + rec.Name, Record: rec,
			Reason: "its agent is not in the pool and its instance is gone"})
	}
	return steps
}
