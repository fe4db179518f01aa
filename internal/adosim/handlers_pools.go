package adosim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// MaxJobRequestRows is the most rows the pool job-requests list returns, whatever is asked.
const MaxJobRequestRows = 200

func (s *Server) poolRoutes() {
	const pools = "/{org}/_apis/distributedtask/pools"
	s.handle("GET "+pools, authOrg, s.listPools)
	s.handle("GET "+pools+"/{poolId}", authOrg, s.getPool)
	s.handle("GET "+pools+"/{poolId}/agents", authOrg, s.listAgents)
	s.handle("POST "+pools+"/{poolId}/agents", authOrg, s.addAgent)
	s.handle("GET "+pools+"/{poolId}/agents/{agentId}", authOrg, s.getAgent)
	s.handle("PUT "+pools+"/{poolId}/agents/{agentId}", authOrg, s.replaceAgent)
	s.handle("PATCH "+pools+"/{poolId}/agents/{agentId}", authOrg, s.updateAgent)
	s.handle("DELETE "+pools+"/{poolId}/agents/{agentId}", authOrg, s.deleteAgent)
	s.handle("GET "+pools+"/{poolId}/jobrequests", authOrg, s.listJobRequests)
	s.handle("GET "+pools+"/{poolId}/jobrequests/{requestId}", authOrg, s.getJobRequest)
}

func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errBadRequest("The value %q of query parameter %s is not a valid boolean.", v, name)
	}
	return b, nil
}

func queryInt(r *http.Request, name string, def int) (int, error) {
	if !r.URL.Query().Has(name) {
		return def, nil
	}
	v := r.URL.Query().Get(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errBadRequest("The value %q of query parameter %s is not a valid non-negative integer.", v, name)
	}
	return n, nil
}

func (s *Server) listPools(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	name, poolType := q.Get("poolName"), q.Get("poolType")
	ids := map[int]bool{}
	for _, f := range strings.Split(q.Get("poolIds"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			n, err := strconv.Atoi(f)
			if err != nil {
				return errBadRequest("The value %q of poolIds is not a valid integer.", f)
			}
			ids[n] = true
		}
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []wirePool
	for _, p := range o.pools {
		if (name != "" && !strings.EqualFold(p.name, name)) || (poolType != "" && !strings.EqualFold(p.poolType, poolType)) || (len(ids) > 0 && !ids[p.id]) {
			continue
		}
		out = append(out, o.wirePoolLocked(p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeCollection(w, out)
	return nil
}

func (s *Server) getPool(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "poolId")
	if err != nil {
		return err
	}
	p, unlock, err := s.lockPool(id)
	if err != nil {
		return err
	}
	defer unlock()
	writeJSON(w, http.StatusOK, s.org.wirePoolLocked(p))
	return nil
}

func agentFlagsOf(r *http.Request) (agentFlags, error) {
	var f agentFlags
	var err error
	if f.capabilities, err = queryBool(r, "includeCapabilities"); err != nil {
		return f, err
	}
	if f.assigned, err = queryBool(r, "includeAssignedRequest"); err != nil {
		return f, err
	}
	f.lastCompleted, err = queryBool(r, "includeLastCompletedRequest")
	return f, err
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	poolID, err := pathInt(r, "poolId")
	if err != nil {
		return err
	}
	flags, err := agentFlagsOf(r)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("agentName")
	var filter []demand
	if d := r.URL.Query().Get("demands"); d != "" {
		if filter, err = parseDemands(strings.Split(d, ",")); err != nil {
			return errBadRequest("%v", err)
		}
	}
	_, unlock, err := s.lockPool(poolID)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	var out []wireAgent
	for _, a := range o.agentsInPoolLocked(poolID) {
		if (name != "" && !strings.EqualFold(a.name, name)) || !satisfiesAll(filter, a.capabilities()) {
			continue
		}
		out = append(out, o.wireAgentLocked(orgBase(r), a, flags))
	}
	writeCollection(w, out)
	return nil
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) error {
	poolID, agentID, err := poolAgentIDs(r)
	if err != nil {
		return err
	}
	flags, err := agentFlagsOf(r)
	if err != nil {
		return err
	}
	a, unlock, err := s.lockAgent(poolID, agentID)
	if err != nil {
		return err
	}
	defer unlock()
	writeJSON(w, http.StatusOK, s.org.wireAgentLocked(orgBase(r), a, flags))
	return nil
}

// addAgent is POST agents: register a new agent (a name already in the pool is a conflict).
func (s *Server) addAgent(w http.ResponseWriter, r *http.Request) error {
	poolID, err := pathInt(r, "poolId")
	if err != nil {
		return err
	}
	var in wireAgentIn
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	p, unlock, err := s.lockPool(poolID)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	a, err := o.addAgentLocked(p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o.wireAgentLocked(orgBase(r), a, agentFlags{capabilities: true}))
	return nil
}

// replaceAgent is PUT agent: what `config.sh --replace` does to an existing name.
func (s *Server) replaceAgent(w http.ResponseWriter, r *http.Request) error {
	var in wireAgentIn
	a, unlock, err := s.lockAgentFor(r, &in)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	if in.Name == "" {
		in.Name = a.name
	}
	if !strings.EqualFold(in.Name, a.name) {
		for _, other := range o.agentsInPoolLocked(a.poolID) {
			if other.id != a.id && strings.EqualFold(other.name, in.Name) {
				return errAgentExists(in.Name, o.pools[a.poolID].name)
			}
		}
	}
	o.replaceAgentLocked(a, in)
	writeJSON(w, http.StatusOK, o.wireAgentLocked(orgBase(r), a, agentFlags{capabilities: true}))
	return nil
}

// updateAgent is PATCH agent; adofleet uses it for enabled.
func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request) error {
	var in wireAgentIn
	a, unlock, err := s.lockAgentFor(r, &in)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	if in.ID != 0 && in.ID != a.id {
		return errBadRequest("The agent id %d in the body does not match %d in the URL.", in.ID, a.id)
	}
	if in.Enabled != nil {
		o.setEnabledLocked(a, *in.Enabled)
	}
	writeJSON(w, http.StatusOK, o.wireAgentLocked(orgBase(r), a, agentFlags{}))
	return nil
}

func (s *Server) deleteAgent(w http.ResponseWriter, r *http.Request) error {
	poolID, agentID, err := poolAgentIDs(r)
	if err != nil {
		return err
	}
	a, unlock, err := s.lockAgent(poolID, agentID)
	if err != nil {
		return err
	}
	defer unlock()
	s.org.deleteAgentLocked(a)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listJobRequests is the undocumented pool job-requests list, quirks included (the ones KEDA's
// azure-pipelines scaler works around): rows come newest first; completedRequestCount=N keeps
// every unfinished request and only the N most recent finished ones; $top=N returns the first N
// rows and drops matchedAgents from them; never more than MaxJobRequestRows rows come back.
func (s *Server) listJobRequests(w http.ResponseWriter, r *http.Request) error {
	poolID, err := pathInt(r, "poolId")
	if err != nil {
		return err
	}
	top, err := queryInt(r, "$top", -1)
	if err != nil {
		return err
	}
	completed, err := queryInt(r, "completedRequestCount", -1)
	if err != nil {
		return err
	}
	agentID, err := queryInt(r, "agentId", 0)
	if err != nil {
		return err
	}
	_, unlock, err := s.lockPool(poolID)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	var jobs []*job
	for _, j := range o.jobs {
		if j.poolID == poolID && !j.waitingForCheck() && (agentID == 0 || j.agentID == agentID) {
			jobs = append(jobs, j)
		}
	}
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].id > jobs[k].id })
	var rows []wireJobRequest
	finished := 0
	for _, j := range jobs {
		if j.finished() {
			if completed >= 0 && finished >= completed {
				continue
			}
			finished++
		}
		rows = append(rows, o.wireJobLocked(orgBase(r), j, top < 0))
	}
	if top >= 0 && len(rows) > top {
		rows = rows[:top]
	}
	if len(rows) > MaxJobRequestRows {
		rows = rows[:MaxJobRequestRows]
	}
	writeCollection(w, rows)
	return nil
}

func (s *Server) getJobRequest(w http.ResponseWriter, r *http.Request) error {
	poolID, id, err := poolIDAnd64(r, "requestId")
	if err != nil {
		return err
	}
	_, unlock, err := s.lockPool(poolID)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	j, err := o.jobLocked(poolID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o.wireJobLocked(orgBase(r), j, false))
	return nil
}
