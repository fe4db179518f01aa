package ado

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The environment and VM resource lookups the vmresource package makes, on the same routes the
// agent's `config.sh --environment` uses (EnvironmentsHttpClient in the Azure Pipelines agent):
//
//	GET {project}/_apis/distributedtask/environments?name=                        GetEnvironmentsAsync
//	GET .../environments/{environmentId}/providers/virtualmachines?name=           GetVirtualMachineResourcesAsync
//	GET .../environments/{environmentId}/providers/virtualmachines/{resourceId}
//	GET .../environments/{environmentId}/providers/virtualmachines/pool            GetLinkedPoolAsync

// FindEnvironment returns the project's environment named name (ADO compares names
// case-insensitively); ErrNotFound when there is none.
func (c *Client) FindEnvironment(ctx context.Context, project, name string) (Environment, error) {
	call := fmt.Sprintf("find environment %q in project %q", name, project)
	if project == "" || strings.TrimSpace(name) == "" {
		return Environment{}, fmt.Errorf("ado: %s: project and name are required", call)
	}
	envs, err := pagedList[Environment](ctx, c, "FindEnvironment", call,
		project+"/_apis/distributedtask/environments", withVersion(url.Values{"name": {name}}, apiVersion))
	if err != nil {
		return Environment{}, err
	}
	var found []Environment
	for _, e := range envs {
		if e.Name == name {
			return e, nil
		}
		if strings.EqualFold(e.Name, name) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return Environment{}, fmt.Errorf("ado: %s: no environment has that name: %w", call, ErrNotFound)
	case 1:
		return found[0], nil
	default:
		return Environment{}, fmt.Errorf("ado: %s: %d environments match that name", call, len(found))
	}
}

// FindVMResources returns the environment's VM resources named name (at most one in practice:
// ADO refuses a second registration of a name).
func (c *Client) FindVMResources(ctx context.Context, project string, environmentID int, name string) ([]VMResource, error) {
	call := fmt.Sprintf("find VM resource %q of environment %d in project %q", name, environmentID, project)
	if project == "" || name == "" {
		return nil, fmt.Errorf("ado: %s: project and name are required", call)
	}
	all, err := pagedList[VMResource](ctx, c, "FindVMResources", call,
		environmentPath(project, environmentID)+"/providers/virtualmachines",
		withVersion(url.Values{"name": {name}}, vmResourceAPIVersion))
	if err != nil {
		return nil, err
	}
	// The name filter is the server's; keep only exact (case-insensitive) matches regardless.
	out := all[:0]
	for _, r := range all {
		if strings.EqualFold(r.Name, name) {
			out = append(out, r)
		}
	}
	return out, nil
}

// GetVMResource returns one VM resource with its agent; ErrNotFound when it is gone.
func (c *Client) GetVMResource(ctx context.Context, project string, environmentID, resourceID int) (VMResource, error) {
	call := fmt.Sprintf("get VM resource %d of environment %d in project %q", resourceID, environmentID, project)
	if project == "" {
		return VMResource{}, fmt.Errorf("ado: %s: project is empty", call)
	}
	var out VMResource
	_, err := c.do(ctx, request{
		op: "GetVMResource", call: call, method: http.MethodGet, idempotent: true,
		url: c.orgURL(environmentPath(project, environmentID)+"/providers/virtualmachines/"+strconv.Itoa(resourceID),
			withVersion(nil, vmResourceAPIVersion)),
	}, &out)
	if err != nil {
		return VMResource{}, err
	}
	return out, nil
}

// GetEnvironmentDeploymentPool returns the environment's hidden deployment pool, where each VM
// resource has its agent (the pool the agent itself looks up after registering).
func (c *Client) GetEnvironmentDeploymentPool(ctx context.Context, project string, environmentID int) (Pool, error) {
	call := fmt.Sprintf("get the deployment pool of environment %d in project %q", environmentID, project)
	if project == "" {
		return Pool{}, fmt.Errorf("ado: %s: project is empty", call)
	}
	var out Pool
	_, err := c.do(ctx, request{
		op: "GetEnvironmentDeploymentPool", call: call, method: http.MethodGet, idempotent: true,
		url: c.orgURL(environmentPath(project, environmentID)+"/providers/virtualmachines/pool",
			withVersion(nil, vmResourceAPIVersion)),
	}, &out)
	if err != nil {
		return Pool{}, err
	}
	if out.ID == 0 {
		return Pool{}, fmt.Errorf("ado: %s: answer has no pool id", call)
	}
	return out, nil
}

// FindAgents returns the pool's agents named name (GET pools/{poolId}/agents?agentName=), the
// lookup used for a VM resource's hidden agent when its id was never recorded.
func (c *Client) FindAgents(ctx context.Context, poolID int, name string) ([]Agent, error) {
	call := fmt.Sprintf("find agent %q in pool %d", name, poolID)
	if name == "" {
		return nil, fmt.Errorf("ado: %s: name is empty", call)
	}
	q := agentQuery()
	q.Set("agentName", name)
	var out listOf[Agent]
	_, err := c.do(ctx, request{
		op: "FindAgents", call: call, method: http.MethodGet, idempotent: true, url: c.orgURL(poolPath(poolID)+"/agents", q),
	}, &out)
	if err != nil {
		return nil, err
	}
	found := out.Value[:0]
	for _, a := range out.Value {
		if strings.EqualFold(a.Name, name) {
			found = append(found, a)
		}
	}
	return found, nil
}
