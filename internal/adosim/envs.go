package adosim

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// Environments belong to a project; each owns a hidden deployment pool in which every virtual-
// machine resource has its agent. Deleting a resource leaves that agent behind, as ADO does, so
// re-registering the same name fails until the agent is removed from the deployment pool too.

type environment struct {
	id          int
	name        string
	description string
	project     string // name
	projectID   string
	poolID      int // deployment pool
	groupID     int // the 6.0 virtualmachinegroups resource id
	createdOn   time.Time
	resources   map[int]*vmResource
}

type vmResource struct {
	id        int
	name      string
	tags      []string
	agentID   int
	createdOn time.Time
}

// AddEnvironment creates an environment in the project (name or id; created if unknown) and
// returns its id.
func (o *Org) AddEnvironment(project, name string) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if strings.TrimSpace(name) == "" {
		return 0, errBadRequest("An environment name is required.")
	}
	pname, pid, ok := o.resolveProjectLocked(project)
	if !ok {
		pid = o.projectIDLocked(project)
		pname = project
	}
	for _, e := range o.envs {
		if e.projectID == pid && strings.EqualFold(e.name, name) {
			return 0, errf(http.StatusConflict, "EnvironmentExistsException", "Environment %s already exists in project %s.", name, pname)
		}
	}
	o.nextEnvID++
	id := o.nextEnvID
	p, err := o.addPoolLocked("env-"+pid[:8]+"-"+itoa(id), PoolTypeDeployment)
	if err != nil {
		return 0, err
	}
	p.envID = id
	o.nextResourceID++
	o.envs[id] = &environment{
		id: id, name: name, project: pname, projectID: pid, poolID: p.id, groupID: o.nextResourceID,
		createdOn: o.clock.Now(), resources: map[int]*vmResource{},
	}
	return id, nil
}

// VMSpec describes a virtual-machine resource to add to an environment.
type VMSpec struct {
	Name               string
	Tags               []string
	SystemCapabilities map[string]string
}

// AddVMResource registers a VM resource (and its agent in the environment's deployment pool) and
// returns the resource id. A name whose agent is still in the deployment pool is a conflict.
func (o *Org) AddVMResource(project string, envID int, spec VMSpec) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, err := o.envLocked(project, envID)
	if err != nil {
		return 0, err
	}
	a, err := o.addAgentLocked(o.pools[e.poolID], wireAgentIn{Name: spec.Name, SystemCapabilities: spec.SystemCapabilities})
	if err != nil {
		return 0, err
	}
	o.nextResourceID++
	r := &vmResource{id: o.nextResourceID, name: spec.Name, tags: append([]string{}, spec.Tags...), agentID: a.id, createdOn: o.clock.Now()}
	e.resources[r.id] = r
	return r.id, nil
}

func (o *Org) envLocked(project string, envID int) (*environment, error) {
	_, pid, ok := o.resolveProjectLocked(project)
	e := o.envs[envID]
	if !ok || e == nil || e.projectID != pid {
		return nil, errf(http.StatusNotFound, "EnvironmentNotFoundException", "Environment with id %d does not exist in project %s.", envID, project)
	}
	return e, nil
}

func (o *Org) envsLocked(project string) ([]*environment, error) {
	_, pid, ok := o.resolveProjectLocked(project)
	if !ok {
		return nil, errf(http.StatusNotFound, "ProjectDoesNotExistWithNameException", "The following project does not exist: %s.", project)
	}
	var out []*environment
	for _, e := range o.envs {
		if e.projectID == pid {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

func (e *environment) sortedResources() []*vmResource {
	out := make([]*vmResource, 0, len(e.resources))
	for _, r := range e.resources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (o *Org) vmResourceLocked(e *environment, id int) (*vmResource, error) {
	r, ok := e.resources[id]
	if !ok {
		return nil, errf(http.StatusNotFound, "EnvironmentResourceNotFoundException", "Resource with id %d does not exist in environment %d.", id, e.id)
	}
	return r, nil
}

// deleteVMResourceLocked removes the resource only; its agent stays in the deployment pool.
func (o *Org) deleteVMResourceLocked(e *environment, id int) error {
	if _, err := o.vmResourceLocked(e, id); err != nil {
		return err
	}
	delete(e.resources, id)
	o.notifyLocked()
	return nil
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}
