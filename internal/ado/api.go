// Package ado is the Azure DevOps REST client for the calls adofleet makes: pools, agents, job
// requests, environments and their VM resources, and plan events and logs for checks.
//
// Every call has a timeout, retries 429 and 5xx with backoff honouring Retry-After and the
// X-RateLimit-* headers, and is counted in adofleet_ado_requests_total. Errors name the call and carry
// ADO's own message; the credential never appears in an error or a log.
package ado

import "context"

// API is the set of calls *Client implements. Consumers declare the subset they use.
type API interface {
	// FindPool returns the pool named name (GET _apis/distributedtask/pools?poolName=).
	FindPool(ctx context.Context, name string) (Pool, error)
	// ListAgents returns a pool's agents with their assigned and last completed requests, without
	// capabilities (see Client.ListAgents for the fields it fills).
	ListAgents(ctx context.Context, poolID int) ([]Agent, error)
	// ListAgentsWith is ListAgents embedding only the job requests o asks for.
	ListAgentsWith(ctx context.Context, poolID int, o AgentListOptions) ([]Agent, error)
	// GetAgent returns one agent with capabilities and assigned request.
	GetAgent(ctx context.Context, poolID, agentID int) (Agent, error)
	// AddAgent registers an agent (used for the offline placeholder agents that keep ADO from
	// failing jobs at scale to zero).
	AddAgent(ctx context.Context, poolID int, a Agent) (Agent, error)
	// SetAgentEnabled enables or disables an agent (PATCH enabled).
	SetAgentEnabled(ctx context.Context, poolID, agentID int, enabled bool) (Agent, error)
	// DeleteAgent removes an agent; an agent already gone is not an error.
	DeleteAgent(ctx context.Context, poolID, agentID int) error
	// ListJobRequests returns the pool's unfinished job requests (one call per pool per cycle).
	ListJobRequests(ctx context.Context, poolID int) ([]JobRequest, error)
	// ListFinishedJobRequests returns up to top finished requests (for trace export).
	ListFinishedJobRequests(ctx context.Context, poolID int, top int) ([]JobRequest, error)

	// PostJobEvent posts a plan event (TaskCompleted for a check callback) with the plan's token.
	PostJobEvent(ctx context.Context, plan PlanRef, ev JobEvent) error
	// AppendLog appends lines to the check's timeline record log, with the plan's token.
	AppendLog(ctx context.Context, plan PlanRef, lines []string) error

	// ListEnvironments returns the project's environments.
	ListEnvironments(ctx context.Context, project string) ([]Environment, error)
	// ListVMResources returns an environment's virtual-machine resources with their agents.
	ListVMResources(ctx context.Context, project string, environmentID int) ([]VMResource, error)
	// DeleteVMResource removes a VM resource; one already gone is not an error.
	DeleteVMResource(ctx context.Context, project string, environmentID, resourceID int) error
}

// PlanRef addresses one check invocation: the values ADO sends to an Invoke REST API check.
type PlanRef struct {
	PlanURL        string // e.g. https://dev.azure.com/contoso/ (system.CollectionUri)
	ProjectID      string // scopeIdentifier
	HubName        string // "build", "release", "checks"
	PlanID         string
	JobID          string
	TimelineID     string
	TaskInstanceID string
	AuthToken      string // the job access token ADO sent; never logged
}
