package adosim

import (
	"net/http"
	"strconv"
)

// Helpers for the handlers' common preambles: parsing path values, and locking the org while
// looking up what the URL names.

func pathInt(r *http.Request, name string) (int, error) {
	n, err := strconv.Atoi(r.PathValue(name))
	if err != nil {
		return 0, errBadRequest("The value %q of %s is not a valid integer.", r.PathValue(name), name)
	}
	return n, nil
}

// poolAgentIDs parses {poolId} and then {agentId}.
func poolAgentIDs(r *http.Request) (poolID, agentID int, err error) {
	if poolID, err = pathInt(r, "poolId"); err != nil {
		return 0, 0, err
	}
	agentID, err = pathInt(r, "agentId")
	return poolID, agentID, err
}

// poolIDAnd64 parses {poolId} and then name as an int64 (a request or message id).
func poolIDAnd64(r *http.Request, name string) (poolID int, id int64, err error) {
	if poolID, err = pathInt(r, "poolId"); err != nil {
		return 0, 0, err
	}
	if id, err = strconv.ParseInt(r.PathValue(name), 10, 64); err != nil {
		return 0, 0, errBadRequest("The value %q of %s is not a valid integer.", r.PathValue(name), name)
	}
	return poolID, id, nil
}

// lockFind locks the org and runs find. On success the caller holds the lock and must call the
// returned unlock; on failure the lock is already released.
func lockFind[T any](o *Org, find func() (T, error)) (T, func(), error) {
	o.mu.Lock()
	v, err := find()
	if err != nil {
		o.mu.Unlock()
		return v, nil, err
	}
	return v, o.mu.Unlock, nil
}

func (s *Server) lockPool(poolID int) (*pool, func(), error) {
	return lockFind(s.org, func() (*pool, error) { return s.org.poolLocked(poolID) })
}

func (s *Server) lockAgent(poolID, agentID int) (*agent, func(), error) {
	return lockFind(s.org, func() (*agent, error) { return s.org.agentLocked(poolID, agentID) })
}

// lockAgentFor parses {poolId} and {agentId}, decodes the body into in, then locks the org and
// looks the agent up (as lockFind).
func (s *Server) lockAgentFor(r *http.Request, in any) (*agent, func(), error) {
	poolID, agentID, err := poolAgentIDs(r)
	if err != nil {
		return nil, nil, err
	}
	if err := decodeBody(r, in); err != nil {
		return nil, nil, err
	}
	return s.lockAgent(poolID, agentID)
}

func (s *Server) lockSession(poolID int, sessionID string) (*session, func(), error) {
	return lockFind(s.org, func() (*session, error) { return s.org.sessionLocked(poolID, sessionID) })
}

// lockEnv resolves {project} and {environmentId}.
func (s *Server) lockEnv(r *http.Request) (*environment, func(), error) {
	return lockFind(s.org, func() (*environment, error) { return s.envFromPath(r) })
}

// lockGroup resolves {project}, {environmentId} and {groupId}.
func (s *Server) lockGroup(r *http.Request) (*environment, func(), error) {
	return lockFind(s.org, func() (*environment, error) { return s.groupFromPath(r) })
}

// lockPlan resolves {scope}, {hub} and {planId}.
func (s *Server) lockPlan(r *http.Request) (*plan, func(), error) {
	return lockFind(s.org, func() (*plan, error) { return s.planFromPath(r) })
}
