package ado

import "time"

// Wire types for the calls adofleet makes, with ADO's JSON names (api-version 7.1, see
// shared/specs/ado/distributedTask/7.1/taskAgent.json). Only the fields adofleet reads or writes are
// declared; unknown fields are ignored on decode.

// Pool is a TaskAgentPool.
type Pool struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	IsHosted bool   `json:"isHosted"`
	PoolType string `json:"poolType,omitempty"` // "automation" or "deployment"
	Size     int    `json:"size,omitempty"`
}

// AgentStatus is TaskAgentStatus: "offline" or "online".
type AgentStatus string

const (
	AgentOffline AgentStatus = "offline"
	AgentOnline  AgentStatus = "online"
)

// Agent is a TaskAgent.
type Agent struct {
	ID                 int               `json:"id"`
	Name               string            `json:"name"`
	Version            string            `json:"version,omitempty"`
	OSDescription      string            `json:"osDescription,omitempty"`
	Enabled            bool              `json:"enabled"`
	Status             AgentStatus       `json:"status"`
	ProvisioningState  string            `json:"provisioningState,omitempty"`
	CreatedOn          time.Time         `json:"createdOn"`
	StatusChangedOn    time.Time         `json:"statusChangedOn,omitempty"`
	MaxParallelism     int               `json:"maxParallelism,omitempty"`
	SystemCapabilities map[string]string `json:"systemCapabilities,omitempty"`
	UserCapabilities   map[string]string `json:"userCapabilities,omitempty"`
	AssignedRequest    *JobRequest       `json:"assignedRequest,omitempty"`
	LastCompleted      *JobRequest       `json:"lastCompletedRequest,omitempty"`
	Authorization      *AgentAuth        `json:"authorization,omitempty"`
}

// Capabilities merges system and user capabilities; user capabilities win, as in ADO.
func (a Agent) Capabilities() map[string]string {
	out := make(map[string]string, len(a.SystemCapabilities)+len(a.UserCapabilities))
	for k, v := range a.SystemCapabilities {
		out[k] = v
	}
	for k, v := range a.UserCapabilities {
		out[k] = v
	}
	return out
}

// AgentAuth is TaskAgentAuthorization: the agent's public key, set when it registers.
type AgentAuth struct {
	AuthorizationURL string     `json:"authorizationUrl,omitempty"`
	ClientID         string     `json:"clientId,omitempty"`
	PublicKey        *PublicKey `json:"publicKey,omitempty"`
}

// PublicKey is TaskAgentPublicKey (RSA, base64 big-endian modulus and exponent).
type PublicKey struct {
	Exponent string `json:"exponent"`
	Modulus  string `json:"modulus"`
}

// AgentRef is TaskAgentReference, as embedded in a job request.
type AgentRef struct {
	ID      int         `json:"id"`
	Name    string      `json:"name"`
	Enabled bool        `json:"enabled"`
	Status  AgentStatus `json:"status,omitempty"`
}

// JobRequest is a TaskAgentJobRequest as returned by the pool job-requests list.
//
// A request is waiting while it has neither a Result nor a ReceiveTime... unless it is assigned:
// AssignTime with no Result means an agent holds it. Demands are ADO's demand strings
// ("docker", "Agent.OS -equals Linux").
type JobRequest struct {
	RequestID     int64             `json:"requestId"`
	QueueTime     time.Time         `json:"queueTime"`
	AssignTime    *time.Time        `json:"assignTime,omitempty"`
	ReceiveTime   *time.Time        `json:"receiveTime,omitempty"`
	FinishTime    *time.Time        `json:"finishTime,omitempty"`
	Result        *string           `json:"result,omitempty"` // succeeded, failed, canceled, ...
	ServiceOwner  string            `json:"serviceOwner,omitempty"`
	HostID        string            `json:"hostId,omitempty"`
	ScopeID       string            `json:"scopeId,omitempty"`
	PlanType      string            `json:"planType,omitempty"`
	PlanID        string            `json:"planId,omitempty"`
	JobID         string            `json:"jobId,omitempty"`
	JobName       string            `json:"jobName,omitempty"`
	PoolID        int               `json:"poolId,omitempty"`
	Demands       []string          `json:"demands,omitempty"`
	MatchedAgents []AgentRef        `json:"matchedAgents,omitempty"`
	ReservedAgent *AgentRef         `json:"reservedAgent,omitempty"`
	LockedUntil   *time.Time        `json:"lockedUntil,omitempty"`
	Data          map[string]string `json:"data,omitempty"`
}

// Finished reports whether the request has ended (it has a result).
func (r JobRequest) Finished() bool { return r.Result != nil }

// Queued reports whether the request is waiting for an agent: not finished, not assigned.
func (r JobRequest) Queued() bool {
	return r.Result == nil && r.ReservedAgent == nil && r.AssignTime == nil && r.ReceiveTime == nil
}

// CountUnfinished counts the requests waiting for an agent (Queued) and those assigned or
// running; finished ones count in neither.
func CountUnfinished(jobs []JobRequest) (queued, running int) {
	for i := range jobs {
		switch j := &jobs[i]; {
		case j.Finished():
		case j.Queued():
			queued++
		default:
			running++
		}
	}
	return queued, running
}

// Environment is an EnvironmentInstance.
type Environment struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// VMResource is a VirtualMachineResource in an Environment: the resource and its (hidden) agent.
type VMResource struct {
	ID    int      `json:"id"`
	Name  string   `json:"name"`
	Type  string   `json:"type,omitempty"` // "virtualMachine"
	Tags  []string `json:"tags,omitempty"`
	Agent *Agent   `json:"agent,omitempty"`
}

// JobEvent is the body posted to a plan's events endpoint (TaskCompleted for a check callback).
type JobEvent struct {
	Name   string `json:"name"`   // "TaskCompleted"
	TaskID string `json:"taskId"` // the task instance id
	JobID  string `json:"jobId"`
	Result string `json:"result"` // "succeeded" or "failed"
}
