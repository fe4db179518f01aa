package main

import (
	"context"
	"errors"
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

// gcView is what gc read of one pool: the pool's agents with their jobs, adofleet's live
// instances for it (by tag) and its store records.
type gcView struct {
	pool      string
	poolID    int
	agents    []ado.Agent
	busy      map[int]int64 // agent id -> the request it runs
	insts     []provider.Instance
	recs      map[string]*store.AgentRecord
	instByAgt map[string]*provider.Instance
}

// observeGC reads the pool as the controller's observe does: agents (in full, with their
// assigned requests) and the job-request list for who is busy, the provider's list for our
// instances, the store for our records. A pool ADO does not know comes back with poolID 0.
func observeGC(ctx context.Context, client ado.API, prov provider.Provider, st store.Store, pool, controllerID string) (*gcView, error) {
	v := &gcView{pool: pool, busy: map[int]int64{}, recs: map[string]*store.AgentRecord{}, instByAgt: map[string]*provider.Instance{}}
	if err := v.observeADO(ctx, client); err != nil {
		return nil, err
	}
	insts, err := prov.List(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("list instances of pool %q: %w", pool, err)
	}
	for _, in := range insts {
		// Found by tag, never by name: another controller's instances are not ours to touch.
		if in.State.Alive() && provider.IsOurs(in, pool, controllerID) {
			v.insts = append(v.insts, in)
		}
	}
	for i := range v.insts {
		if name := gcAgentNameOf(v.insts[i]); name != "" {
			v.instByAgt[name] = &v.insts[i]
		}
	}
	recs, err := st.ListAgents(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("list store records of pool %q: %w", pool, err)
	}
	for i := range recs {
		v.recs[recs[i].Name] = &recs[i]
	}
	return v, nil
}

// observeADO reads the pool's agents and who is busy. A pool ADO does not know leaves poolID 0
// and no agents: its instances may still be ours to terminate.
func (v *gcView) observeADO(ctx context.Context, client ado.API) error {
	p, err := client.FindPool(ctx, v.pool)
	if errors.Is(err, ado.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find pool %q: %w", v.pool, err)
	}
	v.poolID = p.ID
	if v.agents, err = client.ListAgents(ctx, p.ID); err != nil {
		return fmt.Errorf("list agents of pool %q: %w", v.pool, err)
	}
	jobs, err := client.ListJobRequests(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("list job requests of pool %q: %w", v.pool, err)
	}
	// Busy is either signal: the agent's assigned request, or an unfinished row reserving it.
	for _, a := range v.agents {
		if a.AssignedRequest != nil {
			v.busy[a.ID] = a.AssignedRequest.RequestID
		}
	}
	for _, j := range jobs {
		if !j.Finished() && j.ReservedAgent != nil {
			v.busy[j.ReservedAgent.ID] = j.RequestID
		}
	}
	return nil
}

// gcAgentNameOf is the agent an instance hosts: its AgentName, or its agent tag.
func gcAgentNameOf(in provider.Instance) string {
	if in.AgentName != "" {
		return in.AgentName
	}
	return in.Tags[provider.TagAgent]
}

// instanceOf returns the live instance hosting the agent called name: by agent name or tag, else
// by the instance id its record names.
func (v *gcView) instanceOf(name string) *provider.Instance {
	if in := v.instByAgt[name]; in != nil {
		return in
	}
	if rec := v.recs[name]; rec != nil && rec.InstanceID != "" {
		for i := range v.insts {
			if v.insts[i].ID == rec.InstanceID {
				return &v.insts[i]
			}
		}
	}
	return nil
}

// ours reports whether adofleet created the agent: a store record names it, or one of our
// tagged instances hosts it.
func (v *gcView) ours(name string) bool {
	return v.recs[name] != nil || v.instanceOf(name) != nil
}

// planGC decides, from v alone, what gc does in the pool. Agents adofleet did not create are
// never in the plan (foreign counts them); busy agents and their instances are kept.
func planGC(v *gcView, o gcOptions) (steps []gcStep, foreign int) {
	placeholder := controller.PlaceholderName(v.pool)
	hosted := map[string]bool{} // instance ids whose agent is in the pool
	for i := range v.agents {
		a := &v.agents[i]
		inst := v.instanceOf(a.Name)
		if inst != nil {
			hosted[inst.ID] = true
		}
		job, busy := v.busy[a.ID]
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
		name := gcAgentNameOf(*in)
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
func planAgent(v *gcView, a *ado.Agent, inst *provider.Instance, o gcOptions) gcStep {
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

// recordOf returns the store record of in: by recorded instance id, else by its agent's name.
func (v *gcView) recordOf(in *provider.Instance) *store.AgentRecord {
	for _, r := range v.recs {
		if r.InstanceID == in.ID {
			return r
		}
	}
	return v.recs[gcAgentNameOf(*in)]
}

// sortSteps puts steps in a stable order for the printed plan: by target (kind, then name).
func sortSteps(steps []gcStep) {
	slices.SortStableFunc(steps, func(a, b gcStep) int { return strings.Compare(a.target, b.target) })
}
