package ado

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Environment calls. Environments_List is in the 7.1 spec (taskAgent.json, api-version 7.1).
//
// Virtual-machine resources are not in the 7.1 spec. The paths used here are
//
//	GET    {org}/{project}/_apis/distributedtask/environments/{environmentId}/providers/virtualmachines
//	DELETE {org}/{project}/_apis/distributedtask/environments/{environmentId}/providers/virtualmachines/{resourceId}
//
// as in the public REST reference "Environments - Vmresource - List" (learn.microsoft.com,
// rest/api/azure/devops/environments/vmresource/list, 7.2-preview.1, which shows the newer
// _apis/pipelines/... route for the same resource) and the AzureDevOpsDsc module's
// List-DevOpsEnvironmentVMResources / Remove-DevOpsEnvironmentVMResource (PowerShell Gallery,
// AzureDevOpsDscNative 1.2.0), which call exactly these distributedtask paths at 7.1-preview.1.
// The 6.0 spec's providers/virtualmachinegroups/{resourceId}[/virtualmachines] form addresses a
// virtual-machine *group* resource, not the per-machine resources an agent registers with
// `config.sh --environment`, so it is not used. The resource is still in preview, hence the
// -preview.1 version.
const vmResourceAPIVersion = "7.1-preview.1"

// maxPages bounds continuation-token paging so a misbehaving server cannot loop us forever.
const maxPages = 100

// pagedList fetches a collection, following ADO's x-ms-continuationtoken response header.
func pagedList[T any](ctx context.Context, c *Client, op, call, path string, q url.Values) ([]T, error) {
	var all []T
	for page := 0; page < maxPages; page++ {
		var out listOf[T]
		h, err := c.do(ctx, request{
			op: op, call: call, method: http.MethodGet, idempotent: true, url: c.orgURL(path, q),
		}, &out)
		if err != nil {
			return nil, err
		}
		all = append(all, out.Value...)
		next := h.Get("X-MS-ContinuationToken")
		if next == "" || len(out.Value) == 0 {
			return all, nil
		}
		q.Set("continuationToken", next)
	}
	return nil, fmt.Errorf("ado: %s: more than %d pages", call, maxPages)
}

func environmentPath(project string, environmentID int) string {
	return project + "/_apis/distributedtask/environments/" + strconv.Itoa(environmentID)
}

// ListEnvironments returns the project's environments.
func (c *Client) ListEnvironments(ctx context.Context, project string) ([]Environment, error) {
	call := fmt.Sprintf("list environments in project %q", project)
	if project == "" {
		return nil, fmt.Errorf("ado: %s: project is empty", call)
	}
	return pagedList[Environment](ctx, c, "ListEnvironments", call,
		project+"/_apis/distributedtask/environments", withVersion(nil, apiVersion))
}

// ListVMResources returns an environment's virtual-machine resources with their agents.
func (c *Client) ListVMResources(ctx context.Context, project string, environmentID int) ([]VMResource, error) {
	call := fmt.Sprintf("list VM resources of environment %d in project %q", environmentID, project)
	if project == "" {
		return nil, fmt.Errorf("ado: %s: project is empty", call)
	}
	return pagedList[VMResource](ctx, c, "ListVMResources", call,
		environmentPath(project, environmentID)+"/providers/virtualmachines", withVersion(nil, vmResourceAPIVersion))
}

// DeleteVMResource removes a VM resource from an environment; one already gone (404) is success.
// The resource's hidden agent in the environment's deployment pool is not removed by this call.
func (c *Client) DeleteVMResource(ctx context.Context, project string, environmentID, resourceID int) error {
	call := fmt.Sprintf("delete VM resource %d of environment %d in project %q", resourceID, environmentID, project)
	if project == "" {
		return fmt.Errorf("ado: %s: project is empty", call)
	}
	_, err := c.do(ctx, request{
		op: "DeleteVMResource", call: call, method: http.MethodDelete, idempotent: true,
		url: c.orgURL(environmentPath(project, environmentID)+"/providers/virtualmachines/"+strconv.Itoa(resourceID),
			withVersion(nil, vmResourceAPIVersion)),
	}, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
