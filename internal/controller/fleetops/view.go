package fleetops

import (
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// Observation is what was read of one pool, as read: NewPoolView sorts it into a PoolView.
type Observation struct {
	Pool   string
	PoolID int // 0: Azure DevOps has no such pool
	Agents []ado.Agent
	Jobs   []ado.JobRequest // the pool's job requests (finished ones are ignored)
	// Instances is the provider's list for the pool: anyone's, alive or recently ended.
	Instances []provider.Instance
	Records   []store.AgentRecord
	// ControllerID is the controller whose tagged instances are adofleet's here.
	ControllerID string
}

// PoolView is one pool as gc and status see it: its agents and who is busy, adofleet's
// instances for it (found by tag) and its store records, indexed for the questions they ask.
type PoolView struct {
	pool      string
	poolID    int
	agents    []ado.Agent
	jobs      []ado.JobRequest
	busy      map[int]busyJob // agent id -> the request it runs
	insts     []provider.Instance
	ended     map[string]*provider.Instance // ours, no longer alive (kept briefly by the provider), by id
	recs      map[string]*store.AgentRecord
	instByAgt map[string]*provider.Instance
}

// busyJob is the request an agent runs and, when ADO says, since when.
type busyJob struct {
	request int64
	since   time.Time // zero when unknown
}

// NewPoolView indexes o. Instances another controller tagged are dropped: they are not ours to
// touch, nor to count.
func NewPoolView(o Observation) *PoolView {
	v := &PoolView{pool: o.Pool, poolID: o.PoolID, agents: o.Agents, jobs: o.Jobs,
		busy: map[int]busyJob{}, ended: map[string]*provider.Instance{},
		recs: map[string]*store.AgentRecord{}, instByAgt: map[string]*provider.Instance{}}
	// Busy is either signal: the agent's assigned request, or an unfinished row reserving it.
	for _, a := range o.Agents {
		if r := a.AssignedRequest; r != nil {
			v.busy[a.ID] = busyJob{request: r.RequestID, since: assignedAt(*r)}
		}
	}
	for _, j := range o.Jobs {
		if !j.Finished() && j.ReservedAgent != nil {
			v.busy[j.ReservedAgent.ID] = busyJob{request: j.RequestID, since: assignedAt(j)}
		}
	}
	for _, in := range o.Instances {
		if !provider.IsOurs(in, o.Pool, o.ControllerID) {
			continue
		}
		if in.State.Alive() {
			v.insts = append(v.insts, in)
		} else {
			v.ended[in.ID] = &in
		}
	}
	// Indexed only once v.insts is complete: the pointers point into it.
	for i := range v.insts {
		if name := agentNameOf(v.insts[i]); name != "" {
			v.instByAgt[name] = &v.insts[i]
		}
	}
	for i := range o.Records {
		v.recs[o.Records[i].Name] = &o.Records[i]
	}
	return v
}

// Pool is the pool's name.
func (v *PoolView) Pool() string { return v.pool }

// InADO reports whether Azure DevOps has the pool. One it lacks has no agents, but its instances
// and records may still be adofleet's.
func (v *PoolView) InADO() bool { return v.poolID != 0 }

// assignedAt is when ADO gave the request to its agent: assignTime, else receiveTime.
func assignedAt(r ado.JobRequest) time.Time {
	switch {
	case r.AssignTime != nil:
		return *r.AssignTime
	case r.ReceiveTime != nil:
		return *r.ReceiveTime
	}
	return time.Time{}
}

// agentNameOf is the agent an instance hosts: its AgentName, or its agent tag.
func agentNameOf(in provider.Instance) string {
	if in.AgentName != "" {
		return in.AgentName
	}
	return in.Tags[provider.TagAgent]
}

// instanceOf returns the live instance hosting the agent called name: by agent name or tag, else
// by the instance id its record names.
func (v *PoolView) instanceOf(name string) *provider.Instance {
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
func (v *PoolView) ours(name string) bool {
	return v.recs[name] != nil || v.instanceOf(name) != nil
}

// recordOf returns the store record of in: by recorded instance id, else by its agent's name.
func (v *PoolView) recordOf(in *provider.Instance) *store.AgentRecord {
	for _, r := range v.recs {
		if r.InstanceID == in.ID {
			return r
		}
	}
	return v.recs[agentNameOf(*in)]
}
