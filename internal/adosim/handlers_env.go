package adosim

import (
	"net/http"
	"strings"
)

// Environments and their virtual-machine resources. ADO answers both the distributedtask and the
// newer pipelines route prefix; the VM resources are reached as providers/virtualmachines (what
// the agent and the REST reference use) and, read-only, through the 6.0 spec's
// providers/virtualmachinegroups/{groupId}/virtualmachines form.

func (s *Server) envRoutes() {
	for _, area := range []string{"distributedtask", "pipelines"} {
		envs := "/{org}/{project}/_apis/" + area + "/environments"
		vms := envs + "/{environmentId}/providers/virtualmachines"
		groups := envs + "/{environmentId}/providers/virtualmachinegroups/{groupId}"
		s.handle("GET "+envs, authOrg, s.listEnvironments)
		s.handle("GET "+envs+"/{environmentId}", authOrg, s.getEnvironment)
		s.handle("GET "+vms, authOrg, s.listVMResources)
		s.handle("GET "+vms+"/pool", authOrg, s.getVMPool)
		s.handle("GET "+vms+"/{resourceId}", authOrg, s.getVMResource)
		s.handle("DELETE "+vms+"/{resourceId}", authOrg, s.deleteVMResource)
		s.vmRegisterRoutes(vms)
		s.handle("GET "+groups, authOrg, s.getVMGroup)
		s.handle("GET "+groups+"/virtualmachines", authOrg, s.listGroupVMs)
	}
}

func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("name")
	top, err := queryInt(r, "$top", -1)
	if err != nil {
		return err
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	envs, err := o.envsLocked(r.PathValue("project"))
	if err != nil {
		return err
	}
	var out []wireEnvironment
	for _, e := range envs {
		if name != "" && !strings.EqualFold(e.name, name) {
			continue
		}
		out = append(out, o.wireEnvLocked(e))
	}
	if top >= 0 && len(out) > top {
		out = out[:top]
	}
	writeCollection(w, out)
	return nil
}

// envFromPath resolves {project} and {environmentId}; the caller holds the lock.
func (s *Server) envFromPath(r *http.Request) (*environment, error) {
	id, err := pathInt(r, "environmentId")
	if err != nil {
		return nil, err
	}
	return s.org.envLocked(r.PathValue("project"), id)
}

func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request) error {
	e, unlock, err := s.lockEnv(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	w2 := o.wireEnvLocked(e)
	if strings.Contains(strings.ToLower(r.URL.Query().Get("expands")), "resourcereferences") {
		for _, res := range e.sortedResources() {
			w2.Resources = append(w2.Resources, wireEnvResRef{ID: res.id, Name: res.name, Type: "virtualMachine", Tags: append([]string{}, res.tags...)})
		}
	}
	writeJSON(w, http.StatusOK, w2)
	return nil
}

func (s *Server) listVMResources(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("name")
	e, unlock, err := s.lockEnv(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	var out []wireVMResource
	for _, res := range e.sortedResources() {
		if name == "" || strings.EqualFold(res.name, name) {
			out = append(out, o.wireVMLocked(orgBase(r), e, res))
		}
	}
	writeCollection(w, out)
	return nil
}

func (s *Server) getVMResource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "resourceId")
	if err != nil {
		return err
	}
	e, unlock, err := s.lockEnv(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	res, err := o.vmResourceLocked(e, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o.wireVMLocked(orgBase(r), e, res))
	return nil
}

func (s *Server) deleteVMResource(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "resourceId")
	if err != nil {
		return err
	}
	e, unlock, err := s.lockEnv(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	if err := o.deleteVMResourceLocked(e, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getVMPool returns the environment's hidden deployment pool, where its VM agents live.
func (s *Server) getVMPool(w http.ResponseWriter, r *http.Request) error {
	e, unlock, err := s.lockEnv(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	writeJSON(w, http.StatusOK, o.wirePoolRefLocked(o.pools[e.poolID]))
	return nil
}

func (s *Server) groupFromPath(r *http.Request) (*environment, error) {
	e, err := s.envFromPath(r)
	if err != nil {
		return nil, err
	}
	id, err := pathInt(r, "groupId")
	if err != nil {
		return nil, err
	}
	if id != e.groupID {
		return nil, errf(http.StatusNotFound, "EnvironmentResourceNotFoundException", "Resource with id %d does not exist in environment %d.", id, e.id)
	}
	return e, nil
}

func (s *Server) getVMGroup(w http.ResponseWriter, r *http.Request) error {
	e, unlock, err := s.lockGroup(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	writeJSON(w, http.StatusOK, wireVMGroup{
		wireEnvResource: o.wireEnvResourceLocked(e, e.groupID, e.name, []string{}, e.createdOn), PoolID: e.poolID,
	})
	return nil
}

func (s *Server) listGroupVMs(w http.ResponseWriter, r *http.Request) error {
	e, unlock, err := s.lockGroup(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	var out []wireVirtualMachine
	for _, res := range e.sortedResources() {
		vm := wireVirtualMachine{ID: res.id, Tags: append([]string{}, res.tags...)}
		if a := o.agents[res.agentID]; a != nil {
			wa := o.wireAgentLocked(orgBase(r), a, agentFlags{capabilities: true})
			vm.Agent = &wa
		}
		out = append(out, vm)
	}
	writeCollection(w, out)
	return nil
}
