package adosim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Registering a VM resource as the agent's `config.sh --environment` does (Agent.Listener's
// EnvironmentVMResourceConfigProvider and the EnvironmentsHttpClient it calls):
//
//	GET  {project}/_apis/distributedtask/environments?name={environment}      find the environment
//	GET  {projectId}/.../environments/{id}/providers/virtualmachines?name=     is the name taken?
//	POST {projectId}/.../environments/{id}/providers/virtualmachines           add (body: VirtualMachineResourceCreateParameters)
//	PUT  {projectId}/.../environments/{id}/providers/virtualmachines           replace, with --replace (body: VirtualMachineResource)
//	GET  {projectId}/.../environments/{id}/providers/virtualmachines/pool      the deployment pool the agent then listens on
//
// POST creates the resource's agent in the environment's deployment pool, so a name whose agent
// was left behind there (its resource deleted, the agent not) is refused, as ADO refuses it.

// wireVMResourceIn is VirtualMachineResource as a client sends it.
type wireVMResourceIn struct {
	ID    int          `json:"id"`
	Name  string       `json:"name"`
	Tags  []string     `json:"tags"`
	Agent *wireAgentIn `json:"agent"`
}

// wireVMCreate is VirtualMachineResourceCreateParameters.
type wireVMCreate struct {
	VirtualMachineResource *wireVMResourceIn `json:"virtualMachineResource"`
}

func (s *Server) vmRegisterRoutes(vms string) {
	s.handle("POST "+vms, authOrg, s.addVMResource)
	s.handle("PUT "+vms, authOrg, s.replaceVMResource)
}

func (s *Server) addVMResource(w http.ResponseWriter, r *http.Request) error {
	var in wireVMCreate
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	vm := in.VirtualMachineResource
	if vm == nil || strings.TrimSpace(vm.Name) == "" {
		return errBadRequest("Value cannot be null.\r\nParameter name: virtualMachineResource.Name")
	}
	e, unlock, err := s.lockEnv(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	for _, res := range e.resources {
		if strings.EqualFold(res.name, vm.Name) {
			return errf(http.StatusConflict, "EnvironmentResourceExistsException",
				"A virtual machine resource named %s already exists in environment %d.", vm.Name, e.id)
		}
	}
	ain := wireAgentIn{Name: vm.Name}
	if vm.Agent != nil {
		ain = *vm.Agent
		ain.Name = vm.Name
	}
	a, err := o.addAgentLocked(o.pools[e.poolID], ain)
	if err != nil {
		return err
	}
	o.nextResourceID++
	res := &vmResource{id: o.nextResourceID, name: vm.Name, tags: cleanTags(vm.Tags), agentID: a.id, createdOn: o.clock.Now()}
	e.resources[res.id] = res
	writeJSON(w, http.StatusOK, o.wireVMLocked(orgBase(r), e, res))
	return nil
}

// replaceVMResource is `--replace` on a name that has a resource: its agent takes the new
// registration (key, capabilities) and the resource the new tags.
func (s *Server) replaceVMResource(w http.ResponseWriter, r *http.Request) error {
	var in wireVMResourceIn
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	e, unlock, err := s.lockEnv(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	res, err := o.vmResourceLocked(e, in.ID)
	if err != nil {
		return err
	}
	if in.Agent != nil {
		if a := o.agents[res.agentID]; a != nil {
			ain := *in.Agent
			ain.Name = res.name
			o.applyAgentInLocked(a, ain)
		}
	}
	res.tags = cleanTags(in.Tags)
	o.notifyLocked()
	writeJSON(w, http.StatusOK, o.wireVMLocked(orgBase(r), e, res))
	return nil
}

// cleanTags trims and de-duplicates tags (case-insensitively), as the agent does before sending.
func cleanTags(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t != "" && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, t) }) {
			out = append(out, t)
		}
	}
	return out
}

// VMRegistration is what `config.sh --environment` is given.
type VMRegistration struct {
	OrgURL      string // e.g. http://127.0.0.1:PORT/fabrikam
	Token       string // the PAT
	Project     string // name
	Environment string // name
	Name        string // --agent: the resource (and hidden agent) name
	Tags        []string
	Replace     bool // --replace
	HTTPClient  *http.Client
}

// VMRegistered is what a registration returns.
type VMRegistered struct {
	EnvironmentID, ResourceID, AgentID, PoolID int
}

// RegisterVMResource registers a machine as a VM resource over HTTP with the calls the agent
// makes (see the top of this file), for tests that play an instance booting.
func RegisterVMResource(ctx context.Context, reg VMRegistration) (VMRegistered, error) {
	hc := reg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := NewAgentClient(reg.OrgURL, reg.Token, hc, nil)
	var envs wireCollection[wireEnvironment]
	if _, err := c.do(ctx, http.MethodGet, "/"+url.PathEscape(reg.Project)+"/_apis/distributedtask/environments",
		url.Values{"name": {reg.Environment}}, nil, &envs); err != nil {
		return VMRegistered{}, fmt.Errorf("register %s: %w", reg.Name, err)
	}
	if len(envs.Value) == 0 || envs.Value[0].Project == nil {
		return VMRegistered{}, fmt.Errorf("register %s: environment %q not found", reg.Name, reg.Environment)
	}
	env := envs.Value[0]
	vms := "/" + env.Project.ID + "/_apis/distributedtask/environments/" + strconv.Itoa(env.ID) + "/providers/virtualmachines"
	var existing wireCollection[wireVMResource]
	if _, err := c.do(ctx, http.MethodGet, vms, url.Values{"name": {reg.Name}}, nil, &existing); err != nil {
		return VMRegistered{}, fmt.Errorf("register %s: %w", reg.Name, err)
	}
	agent := &wireAgentIn{Name: reg.Name, Version: SimAgentVersion, OSDescription: "Linux (simulated)",
		Authorization: &wireAuthorization{PublicKey: &wirePublicKey{Exponent: "AQAB", Modulus: "c2ltdWxhdGVk"}}}
	var got wireVMResource
	switch {
	case len(existing.Value) > 0 && !reg.Replace:
		return VMRegistered{}, fmt.Errorf("register %s: %w", reg.Name, errors.New("a VM resource with that name already exists in the environment (use Replace)"))
	case len(existing.Value) > 0:
		in := wireVMResourceIn{ID: existing.Value[0].ID, Name: reg.Name, Tags: reg.Tags, Agent: agent}
		if _, err := c.do(ctx, http.MethodPut, vms, nil, in, &got); err != nil {
			return VMRegistered{}, fmt.Errorf("register %s (replace): %w", reg.Name, err)
		}
	default:
		in := wireVMCreate{VirtualMachineResource: &wireVMResourceIn{Name: reg.Name, Tags: reg.Tags, Agent: agent}}
		if _, err := c.do(ctx, http.MethodPost, vms, nil, in, &got); err != nil {
			return VMRegistered{}, fmt.Errorf("register %s: %w", reg.Name, err)
		}
	}
	var pool wirePoolRef
	if _, err := c.do(ctx, http.MethodGet, vms+"/pool", nil, nil, &pool); err != nil {
		return VMRegistered{}, fmt.Errorf("register %s: deployment pool: %w", reg.Name, err)
	}
	out := VMRegistered{EnvironmentID: env.ID, ResourceID: got.ID, PoolID: pool.ID}
	if got.Agent != nil {
		out.AgentID = got.Agent.ID
	}
	return out, nil
}
