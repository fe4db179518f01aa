package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// observation is everything one cycle read: exactly one job-request list, one agent list, one
// provider list and one store list per cycle (plus one FindPool the first time, and a second
// agent list when the job list cannot say which agents are busy). A pool keeps one and its cycles
// reuse its memory (scratch.go).
type observation struct {
	placeholder string
	jobs        []ado.JobRequest
	agentList   []ado.Agent
	agents      map[string]int      // by name: the agent's index in agentList (not a copy: ~250 B each)
	insts       []provider.Instance // ours by tag, live and recently ended
	// instByID and instByAgent index insts for instanceFor, which runs for every record: a scan
	// per record made the cycle grow as records x instances. Each maps to the first position
	// with that key; nextByID and nextByAgent chain the later ones in list order (-1 ends a
	// chain), so an instance costs no allocation of its own.
	instByID, instByAgent map[string]int
	nextByID, nextByAgent []int
	recs                  []*store.AgentRecord // every state, sorted by name; into recBuf
	recBuf                []store.AgentRecord
	recByName             map[string]*store.AgentRecord
	demands               int             // pending check requests of the pool (Options.Demands)
	reserved              map[string]bool // agents a check reserved (Options.Reserved)

	// Memory the ADO lists, snapshot and attachJobs build in.
	lists      ado.ListBuffers
	snap       scaler.Snapshot
	assigned   map[int64]int // request id -> agent id, from the agents' assigned requests
	agentIndex map[int]int   // agent id -> index in the agent list
}

func (cy *cycle) observe(ctx context.Context) error {
	o := cy.obs
	o.reset() // normally empty already: the last cycle reset it at its end
	name := cy.p.cfg.Name
	poolID, err := cy.resolvePool(ctx)
	if err != nil {
		return err
	}
	cy.poolID = poolID
	// Agents before jobs: a job assigned between the two calls then shows up assigned to an agent
	// the snapshot already has, instead of as a queued job next to an agent already busy with it
	// (which would launch an agent for a job that has one).
	// The agents come without their assigned requests; the job rows say who is busy (agentlist.go).
	agents, err := cy.ado.listAgentsInto(ctx, &o.lists, poolID, leanAgents)
	if err != nil {
		cy.forgetPoolOn(err)
		return fmt.Errorf("observe: list agents of pool %q: %w", name, err)
	}
	jobs, err := cy.ado.listJobRequestsInto(ctx, &o.lists, poolID)
	if err != nil {
		cy.forgetPoolOn(err)
		return fmt.Errorf("observe: list job requests of pool %q: %w", name, err)
	}
	if !attributable(jobs) {
		// Some running job may be missing or name no agent: ask the agents themselves. A job
		// assigned between the two lists then shows on its agent, which the snapshot matches
		// with the row that still says queued.
		if agents, err = cy.ado.ListAgents(ctx, poolID); err != nil {
			cy.forgetPoolOn(err)
			return fmt.Errorf("observe: list agents of pool %q with their jobs: %w", name, err)
		}
	}
	o.attachJobs(agents, jobs)
	insts, err := cy.p.prov.List(ctx, name)
	if err != nil {
		return fmt.Errorf("observe: list instances of pool %q from provider %q: %w", name, cy.p.cfg.Provider, err)
	}
	recs, err := store.AppendAgents(ctx, cy.c.opts.Store, o.recBuf[:0], name)
	o.recBuf = recs
	if err != nil {
		return fmt.Errorf("observe: list store records of pool %q: %w", name, err)
	}
	var demands int
	if f := cy.c.opts.Demands; f != nil {
		byPool, err := f(ctx)
		if err != nil {
			return fmt.Errorf("observe: pending check requests of pool %q: %w", name, err)
		}
		demands = byPool[name]
	}
	var reserved map[string]bool
	if f := cy.c.opts.Reserved; f != nil {
		reserved = f(name)
	}

	o.placeholder = PlaceholderName(name)
	o.jobs, o.demands, o.reserved = jobs, demands, reserved
	o.setAgents(agents)
	o.instByID = emptied(o.instByID, len(insts))
	o.instByAgent = emptied(o.instByAgent, len(insts))
	o.insts = slices.Grow(o.insts[:0], len(insts))
	o.nextByID = slices.Grow(o.nextByID[:0], len(insts))
	o.nextByAgent = slices.Grow(o.nextByAgent[:0], len(insts))
	for i := range insts {
		// Found by tag, never by name: instances of another controller sharing the account are
		// not ours to count or touch.
		if in := &insts[i]; provider.IsOurs(*in, name, cy.c.opts.ControllerID) {
			o.addInstance(*in)
		}
	}
	o.recByName = emptied(o.recByName, len(recs))
	o.recs = slices.Grow(o.recs[:0], len(recs))
	for i := range recs {
		r := &recs[i]
		o.recs = append(o.recs, r)
		o.recByName[r.Name] = r
	}
	slices.SortFunc(o.recs, func(a, b *store.AgentRecord) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// setAgents makes agents the observed agent list and indexes it by name.
func (o *observation) setAgents(agents []ado.Agent) {
	o.agentList = agents
	o.agents = emptied(o.agents, len(agents))
	for i := range agents {
		o.agents[agents[i].Name] = i
	}
}

// resolvePool returns the pool's ADO id, calling FindPool only when it is not cached.
func (cy *cycle) resolvePool(ctx context.Context) (int, error) {
	if cy.p.poolID != 0 {
		return cy.p.poolID, nil
	}
	pl, err := cy.ado.FindPool(ctx, cy.p.cfg.Name)
	if err != nil {
		return 0, fmt.Errorf("observe: find pool %q: %w", cy.p.cfg.Name, err)
	}
	cy.p.poolID = pl.ID
	return pl.ID, nil
}

// forgetPoolOn drops the cached pool id when ADO says it is gone (the pool may have been
// recreated under a new id).
func (cy *cycle) forgetPoolOn(err error) {
	if errors.Is(err, ado.ErrNotFound) {
		cy.p.poolID = 0
	}
}

// agentNameOf is the agent an instance hosts: its AgentName, or its agent tag.
func agentNameOf(in provider.Instance) string {
	if in.AgentName != "" {
		return in.AgentName
	}
	return in.Tags[provider.TagAgent]
}

// addInstance appends in to the observed instances and their indexes.
func (o *observation) addInstance(in provider.Instance) {
	i := len(o.insts)
	o.insts = append(o.insts, in)
	o.nextByID = append(o.nextByID, -1)
	o.nextByAgent = append(o.nextByAgent, -1)
	chain(o.instByID, o.nextByID, in.ID, i)
	chain(o.instByAgent, o.nextByAgent, agentNameOf(in), i)
}

// chain files position i under key: first[key] if it is the first, else at the end of the chain.
// An empty key is not filed: no record has an empty name or looks one up, and a provider listing
// many instances without an agent tag would make the walk quadratic.
func chain(first map[string]int, next []int, key string, i int) {
	if key == "" {
		return
	}
	j, ok := first[key]
	if !ok {
		first[key] = i
		return
	}
	for next[j] >= 0 {
		j = next[j]
	}
	next[j] = i
}

// firstInstance returns the first instance listed with id, or nil.
func (o *observation) firstInstance(id string) *provider.Instance {
	if i, ok := o.instByID[id]; ok {
		return &o.insts[i]
	}
	return nil
}

// instanceFor returns rec's instance, among those listed with its recorded id or its agent name:
// the first live one in list order, else the last ended one (whose Reason says why it ended). Nil
// when the provider lists none.
func (o *observation) instanceFor(rec *store.AgentRecord) *provider.Instance {
	live, ended := -1, -1
	consider := func(first map[string]int, next []int, key string) {
		i, ok := first[key]
		for ; ok && i >= 0; i = next[i] {
			switch {
			case o.insts[i].State.Alive():
				if live < 0 || i < live {
					live = i
				}
			case i > ended:
				ended = i
			}
		}
	}
	if rec.InstanceID != "" {
		consider(o.instByID, o.nextByID, rec.InstanceID)
	}
	consider(o.instByAgent, o.nextByAgent, rec.Name)
	switch {
	case live >= 0:
		return &o.insts[live]
	case ended >= 0:
		return &o.insts[ended]
	}
	return nil
}

// launchPending reports whether rec is a launch whose instance the provider does not list yet: it
// counts against Max like a live instance. A record in StateLaunched with nothing listed counts
// for up to the registration timeout, since some clouds list a new instance only after a delay.
func (o *observation) launchPending(rec *store.AgentRecord, p scaler.Policy, now time.Time) bool {
	inst := o.instanceFor(rec)
	switch rec.State {
	case store.StateLaunching:
		return inst == nil || !inst.State.Alive()
	case store.StateLaunched:
		_, registered := o.agents[rec.Name]
		return inst == nil && !registered && now.Sub(rec.UpdatedAt) < p.RegistrationTimeout
	}
	return false
}

// snapshot builds the scaler's view of the pool. It is built in the observation's memory: valid
// until the observation is reset at the end of the cycle.
func (o *observation) snapshot(pool string, p scaler.Policy, now time.Time) scaler.Snapshot {
	s := &o.snap
	s.Pool, s.Demands, s.Reserved, s.Launching = pool, o.demands, o.reserved, 0
	s.Draining = emptied(s.Draining, 0)
	// Sized up front: a 10,000-agent fleet builds these for every pool every cycle.
	s.Jobs = slices.Grow(s.Jobs[:0], len(o.jobs))
	s.Agents = slices.Grow(s.Agents[:0], len(o.agentList))
	s.Instances = slices.Grow(s.Instances[:0], len(o.insts))
	assigned := emptied(o.assigned, len(o.agentList))
	o.assigned = assigned
	for i := range o.agentList {
		if a := &o.agentList[i]; a.AssignedRequest != nil {
			assigned[a.AssignedRequest.RequestID] = a.ID
		}
	}
	for i := range o.jobs {
		j := &o.jobs[i]
		if j.Finished() {
			continue
		}
		job := scaler.Job{ID: j.RequestID, QueueTime: j.QueueTime, Demands: j.Demands}
		switch {
		case j.ReservedAgent != nil:
			job.AgentID = j.ReservedAgent.ID
		case assigned[j.RequestID] != 0:
			job.AgentID = assigned[j.RequestID] // an agent holds it, whatever the job row says
		case !j.Queued():
			job.AgentID = -1 // assigned, to an agent the list does not show
		}
		s.Jobs = append(s.Jobs, job)
	}
	for i := range o.agentList {
		a := &o.agentList[i]
		_, ours := o.recByName[a.Name]
		s.Agents = append(s.Agents, scaler.Agent{
			ID:          a.ID,
			Name:        a.Name,
			Online:      a.Status == ado.AgentOnline,
			Enabled:     a.Enabled,
			Busy:        a.AssignedRequest != nil,
			Ours:        ours,
			Placeholder: a.Name == o.placeholder,
			IdleSince:   idleSince(a),
			Finished:    p.OneJobPerAgent && a.LastCompleted != nil,
			CreatedOn:   a.CreatedOn,
		})
	}
	for i := range o.insts {
		if in := &o.insts[i]; in.State.Alive() {
			s.Instances = append(s.Instances, scaler.Instance{ID: in.ID, AgentName: agentNameOf(*in), LaunchedAt: in.LaunchedAt})
		}
	}
	for _, r := range o.recs {
		if o.launchPending(r, p, now) {
			s.Launching++
		}
		if r.State == store.StateDraining {
			s.Draining[r.Name] = true
		}
	}
	return *s
}

// idleSince is the later of the agent's last status change and its last job's finish.
func idleSince(a *ado.Agent) time.Time {
	t := a.StatusChangedOn
	if a.LastCompleted != nil && a.LastCompleted.FinishTime != nil && a.LastCompleted.FinishTime.After(t) {
		t = *a.LastCompleted.FinishTime
	}
	return t
}

// counts summarises the observation for Status and the gauges.
func (o *observation) counts() Counts {
	var c Counts
	c.QueuedJobs, c.RunningJobs = ado.CountUnfinished(o.jobs)
	for i := range o.agentList {
		a := &o.agentList[i]
		if a.Name == o.placeholder {
			continue
		}
		rec := o.recByName[a.Name]
		switch {
		case a.AssignedRequest != nil:
			c.Agents.Busy++
		case rec != nil && rec.State == store.StateDraining, a.Status == ado.AgentOnline && !a.Enabled:
			c.Agents.Draining++
		case a.Status == ado.AgentOnline:
			c.Agents.Idle++
		default:
			c.Agents.Offline++
		}
	}
	for _, r := range o.recs {
		if _, registered := o.agents[r.Name]; !registered &&
			(r.State == store.StateLaunching || r.State == store.StateLaunched) {
			c.Agents.Starting++
		}
	}
	return c
}
