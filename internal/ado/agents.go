package ado

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Pool and agent calls (distributedTask 7.1, shared/specs/ado/distributedTask/7.1/taskAgent.json).

// listOf is ADO's envelope for collections: {"count": N, "value": [...]}.
type listOf[T any] struct {
	Count int `json:"count"`
	Value []T `json:"value"`
}

// agentQuery asks for one agent in full: capabilities and the assigned and last completed
// requests.
func agentQuery() url.Values {
	q := listAgentsQuery(AgentListOptions{AssignedRequest: true, LastCompletedRequest: true})
	q.Set("includeCapabilities", "true")
	return q
}

// AgentListOptions says which of each agent's job requests the pool agents list embeds. Each is a
// whole TaskAgentJobRequest (about 1.5 KB with its data, owner and definition), so on a busy
// pool they are most of the answer.
type AgentListOptions struct {
	// AssignedRequest asks for the job each busy agent runs (includeAssignedRequest). A caller
	// that also lists the pool's job requests can learn the same from their reservedAgent.
	AssignedRequest bool
	// LastCompletedRequest asks for each agent's last finished job (includeLastCompletedRequest):
	// when it finished and how, which no other list shows.
	LastCompletedRequest bool
}

// listAgentsQuery never asks for capabilities: nothing in adofleet reads an agent's capabilities
// from a list (the scaler matches demands against the pool's configured capabilities), and a
// real agent's system capabilities are its whole environment, several KB per agent. A flag that
// is not wanted is left out rather than sent as false, as ADO's own clients do.
func listAgentsQuery(o AgentListOptions) url.Values {
	q := url.Values{}
	if o.AssignedRequest {
		q.Set("includeAssignedRequest", "true")
	}
	if o.LastCompletedRequest {
		q.Set("includeLastCompletedRequest", "true")
	}
	return withVersion(q, apiVersion)
}

func poolPath(poolID int) string { return "_apis/distributedtask/pools/" + strconv.Itoa(poolID) }

func agentPath(poolID, agentID int) string {
	return poolPath(poolID) + "/agents/" + strconv.Itoa(agentID)
}

// FindPool returns the pool named name. GET _apis/distributedtask/pools?poolName= : the 7.1 spec
// lists only poolIds and actionFilter, but poolName is the filter ADO's own .NET client
// (GetAgentPoolsAsync) and KEDA's azure-pipelines scaler use. The match is checked here too,
// case-insensitively as ADO compares pool names.
func (c *Client) FindPool(ctx context.Context, name string) (Pool, error) {
	call := fmt.Sprintf("find pool %q", name)
	if strings.TrimSpace(name) == "" {
		return Pool{}, fmt.Errorf("ado: %s: pool name is empty", call)
	}
	var out listOf[Pool]
	_, err := c.do(ctx, request{
		op: "FindPool", call: call, method: http.MethodGet, idempotent: true,
		url: c.orgURL("_apis/distributedtask/pools", withVersion(url.Values{"poolName": {name}}, apiVersion)),
	}, &out)
	if err != nil {
		return Pool{}, err
	}
	var found []Pool
	for _, p := range out.Value {
		if p.Name == name {
			return p, nil
		}
		if strings.EqualFold(p.Name, name) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return Pool{}, fmt.Errorf("ado: %s: no agent pool has that name: %w", call, ErrNotFound)
	case 1:
		return found[0], nil
	default:
		return Pool{}, fmt.Errorf("ado: %s: %d pools match that name", call, len(found))
	}
}

// ListAgents returns a pool's agents without capabilities (it does not ask for them), each with
// id, name, version, enabled, status, provisioningState, createdOn, statusChangedOn and
// maxParallelism, and its assigned and last completed requests with only requestId, finishTime,
// result and poolId. GetAgent returns one agent in full.
func (c *Client) ListAgents(ctx context.Context, poolID int) ([]Agent, error) {
	return c.ListAgentsWith(ctx, poolID, AgentListOptions{AssignedRequest: true, LastCompletedRequest: true})
}

// ListAgentsWith is ListAgents embedding only the requests o asks for: an agent's AssignedRequest
// (or LastCompleted) is nil when it was not asked for, whatever the agent is doing. The controller
// calls it for every pool every cycle without the assigned requests, which it reads from the job
// requests list instead.
func (c *Client) ListAgentsWith(ctx context.Context, poolID int, o AgentListOptions) ([]Agent, error) {
	return c.ListAgentsInto(ctx, nil, poolID, o)
}

// ListAgentsInto is ListAgentsWith building the agents in b (nil: fresh memory). They are valid
// until the next call through b or its Reset.
func (c *Client) ListAgentsInto(ctx context.Context, b *ListBuffers, poolID int, o AgentListOptions) ([]Agent, error) {
	out := listOf[leanAgent]{Value: agentBufs.get()}
	_, err := c.do(ctx, request{
		op: "ListAgents", call: fmt.Sprintf("list agents in pool %d", poolID),
		method: http.MethodGet, idempotent: true,
		url: c.orgURL(poolPath(poolID)+"/agents", listAgentsQuery(o)),
	}, &out)
	defer agentBufs.put(out.Value)
	if err != nil {
		return nil, err // never a half-decoded list
	}
	return leanAgents(b, out.Value), nil
}

// GetAgent returns one agent. The 7.1 spec documents this path only as "Get Pool Permission"
// (isCheckPermissions, a boolean body); the 6.0 spec documents Agents_Get with the include* flags
// and a TaskAgent body, which is what ADO serves without isCheckPermissions.
func (c *Client) GetAgent(ctx context.Context, poolID, agentID int) (Agent, error) {
	var out Agent
	_, err := c.do(ctx, request{
		op: "GetAgent", call: fmt.Sprintf("get agent %d in pool %d", agentID, poolID),
		method: http.MethodGet, idempotent: true,
		url: c.orgURL(agentPath(poolID, agentID), agentQuery()),
	}, &out)
	if err != nil {
		return Agent{}, err // never a half-decoded agent
	}
	return out, nil
}

// addAgentBody is the TaskAgent sent to Agents_Add: only what a new agent may carry (no id,
// status or timestamps, which ADO assigns).
type addAgentBody struct {
	Name               string            `json:"name"`
	Version            string            `json:"version,omitempty"`
	OSDescription      string            `json:"osDescription,omitempty"`
	Enabled            bool              `json:"enabled"`
	MaxParallelism     int               `json:"maxParallelism,omitempty"`
	SystemCapabilities map[string]string `json:"systemCapabilities,omitempty"`
	UserCapabilities   map[string]string `json:"userCapabilities,omitempty"`
	Authorization      *AgentAuth        `json:"authorization,omitempty"`
}

// AddAgent registers an agent in a pool (POST pools/{poolId}/agents). Not idempotent: a retry
// after a lost response would register a second agent, so only 429 and 503+Retry-After retry.
func (c *Client) AddAgent(ctx context.Context, poolID int, a Agent) (Agent, error) {
	call := fmt.Sprintf("add agent %q to pool %d", a.Name, poolID)
	if a.Name == "" {
		return Agent{}, fmt.Errorf("ado: %s: agent name is empty", call)
	}
	body, err := json.Marshal(addAgentBody{
		Name: a.Name, Version: a.Version, OSDescription: a.OSDescription, Enabled: a.Enabled,
		MaxParallelism: a.MaxParallelism, SystemCapabilities: a.SystemCapabilities,
		UserCapabilities: a.UserCapabilities, Authorization: a.Authorization,
	})
	if err != nil {
		return Agent{}, fmt.Errorf("ado: %s: encode: %w", call, err)
	}
	var out Agent
	_, err = c.do(ctx, request{
		op: "AddAgent", call: call, method: http.MethodPost,
		url:  c.orgURL(poolPath(poolID)+"/agents", withVersion(nil, apiVersion)),
		body: body, contentType: "application/json",
	}, &out)
	if err != nil {
		return Agent{}, err // never a half-decoded agent
	}
	return out, nil
}

// SetAgentEnabled enables or disables an agent: PATCH pools/{poolId}/agents/{agentId} with
// {"id", "enabled"}. Setting the same value twice is harmless, so it retries like a GET.
func (c *Client) SetAgentEnabled(ctx context.Context, poolID, agentID int, enabled bool) (Agent, error) {
	verb := "disable"
	if enabled {
		verb = "enable"
	}
	body, _ := json.Marshal(struct {
		ID      int  `json:"id"`
		Enabled bool `json:"enabled"`
	}{agentID, enabled})
	var out Agent
	_, err := c.do(ctx, request{
		op: "SetAgentEnabled", call: fmt.Sprintf("%s agent %d in pool %d", verb, agentID, poolID),
		method: http.MethodPatch, idempotent: true,
		url:  c.orgURL(agentPath(poolID, agentID), withVersion(nil, apiVersion)),
		body: body, contentType: "application/json",
	}, &out)
	if err != nil {
		return Agent{}, err // never a half-decoded agent
	}
	return out, nil
}

// DeleteAgent removes an agent from a pool; an agent that is already gone (404) is success.
func (c *Client) DeleteAgent(ctx context.Context, poolID, agentID int) error {
	_, err := c.do(ctx, request{
		op: "DeleteAgent", call: fmt.Sprintf("delete agent %d from pool %d", agentID, poolID),
		method: http.MethodDelete, idempotent: true,
		url: c.orgURL(agentPath(poolID, agentID), withVersion(nil, apiVersion)),
	}, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
