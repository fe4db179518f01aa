package adosim

import (
	"fmt"
	"time"
)

// Conversions from the Org's state to wire structs. base is the org URL the request came in on,
// used for _links as ADO does.

func (o *Org) identityLocked() *wireIdentity {
	return &wireIdentity{DisplayName: "Simulated User", ID: o.owner, UniqueName: "sim@adosim.local"}
}

func (o *Org) wirePoolLocked(p *pool) wirePool {
	size := len(o.agentsInPoolLocked(p.id))
	return wirePool{
		CreatedOn: p.createdOn, AutoProvision: false, AutoUpdate: true, CreatedBy: o.identityLocked(),
		Owner: o.identityLocked(), ID: p.id, Scope: p.scope, Name: p.name, PoolType: p.poolType,
		Size: size, Options: "none",
	}
}

func (o *Org) wirePoolRefLocked(p *pool) wirePoolRef {
	return wirePoolRef{ID: p.id, Name: p.name, PoolType: p.poolType, Size: len(o.agentsInPoolLocked(p.id)), Scope: p.scope, Options: "none"}
}

func (o *Org) wireAgentRefLocked(base string, a *agent) wireAgentRef {
	status := "offline"
	if a.online() {
		status = "online"
	}
	self := fmt.Sprintf("%s/_apis/distributedtask/pools/%d/agents/%d", base, a.poolID, a.id)
	web := fmt.Sprintf("%s/_settings/agentpools?agentId=%d&poolId=%d", base, a.id, a.poolID)
	return wireAgentRef{
		Links: wireLinks{"self": {Href: self}, "web": {Href: web}},
		ID:    a.id, Name: a.name, Version: a.version, OSDescription: a.os, Enabled: a.enabled,
		Status: status, ProvisioningState: a.provisioning,
	}
}

type agentFlags struct {
	capabilities, assigned, lastCompleted bool
}

func (o *Org) wireAgentLocked(base string, a *agent, f agentFlags) wireAgent {
	w := wireAgent{
		wireAgentRef: o.wireAgentRefLocked(base, a), MaxParallelism: a.maxParallelism,
		CreatedOn: a.createdOn, StatusChangedOn: a.statusChangedOn,
		Authorization: &wireAuthorization{
			ClientID:         a.clientID,
			AuthorizationURL: base + "/_apis/oauth2/token",
			PublicKey:        a.publicKey,
		},
	}
	if f.capabilities {
		w.SystemCapabilities = nonNil(a.system)
		w.UserCapabilities = nonNil(a.user)
	}
	if f.assigned && a.assigned != 0 {
		if j := o.jobs[a.assigned]; j != nil {
			r := o.wireJobLocked(base, j, false)
			w.AssignedRequest = &r
		}
	}
	if f.lastCompleted && a.lastCompleted != 0 {
		if j := o.jobs[a.lastCompleted]; j != nil {
			r := o.wireJobLocked(base, j, false)
			w.LastCompletedRequest = &r
		}
	}
	return w
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// wireJobLocked renders a job request; matched adds matchedAgents (every agent of the pool that
// satisfies the demands, whatever its status) to an unfinished request.
func (o *Org) wireJobLocked(base string, j *job, matched bool) wireJobRequest {
	w := wireJobRequest{
		RequestID: j.id, QueueTime: j.queueTime, AssignTime: timePtr(j.assignTime),
		ReceiveTime: timePtr(j.receiveTime), FinishTime: timePtr(j.finishTime), LockedUntil: timePtr(j.lockedUntil),
		StatusMessage: j.statusMessage, ServiceOwner: o.owner, HostID: o.hostID, ScopeID: j.scopeID,
		PlanType: j.planType, PlanID: j.planID, JobID: j.jobID, JobName: j.jobName,
		Demands: append([]string(nil), j.demands...), PoolID: j.poolID, OrchestrationID: j.orchestration,
		Data:       map[string]string{"ParallelismTag": "Private", "IsScheduledKey": "false"},
		Definition: &wireOwner{ID: 1, Name: "simulated-pipeline", Links: wireLinks{"web": {Href: base + "/_build/definition?definitionId=1"}}},
		Owner:      &wireOwner{ID: int(j.id), Name: j.jobName, Links: wireLinks{"web": {Href: fmt.Sprintf("%s/_build/results?buildId=%d", base, j.id)}}},
		Priority:   0,
	}
	if j.result != "" {
		r := j.result
		w.Result = &r
	}
	if a := o.agents[j.agentID]; a != nil && j.agentID != 0 {
		ref := o.wireAgentRefLocked(base, a)
		w.ReservedAgent = &ref
	}
	w.MatchesAllAgentsInPool = len(j.parsed) == 0
	if matched && !j.finished() {
		refs := []wireAgentRef{}
		for _, a := range o.agentsInPoolLocked(j.poolID) {
			if satisfiesAll(j.parsed, a.capabilities()) {
				refs = append(refs, o.wireAgentRefLocked(base, a))
			}
		}
		w.MatchedAgents = &refs
	}
	return w
}

func (o *Org) wireEnvLocked(e *environment) wireEnvironment {
	return wireEnvironment{
		ID: e.id, Name: e.name, Description: e.description, CreatedBy: o.identityLocked(), CreatedOn: e.createdOn,
		LastModifiedBy: o.identityLocked(), LastModifiedOn: e.createdOn,
		Project: &wireProjectRef{ID: e.projectID, Name: e.project},
	}
}

// wireEnvResourceLocked is a virtual-machine resource of e, or (id e.groupID) its VM group.
func (o *Org) wireEnvResourceLocked(e *environment, id int, name string, tags []string, created time.Time) wireEnvResource {
	return wireEnvResource{
		ID: id, Name: name, Type: "virtualMachine", Tags: tags, CreatedBy: o.identityLocked(), CreatedOn: created,
		LastModifiedBy: o.identityLocked(), LastModifiedOn: created, EnvironmentReference: wireEnvRef{ID: e.id, Name: e.name},
	}
}

func (o *Org) wireVMLocked(base string, e *environment, r *vmResource) wireVMResource {
	w := wireVMResource{wireEnvResource: o.wireEnvResourceLocked(e, r.id, r.name, append([]string{}, r.tags...), r.createdOn)}
	if a := o.agents[r.agentID]; a != nil {
		wa := o.wireAgentLocked(base, a, agentFlags{capabilities: true})
		w.Agent = &wa
	}
	return w
}
