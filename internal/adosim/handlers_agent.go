package adosim

import (
	"net/http"
	"strconv"
	"time"
)

// The calls the Azure Pipelines agent makes once configured (its MessageListener and
// JobDispatcher): open a session, long-poll for messages, acknowledge them, renew and finish the
// job request with its lock token, and close the session.

func (s *Server) agentProtocolRoutes() {
	const pools = "/{org}/_apis/distributedtask/pools"
	s.handle("POST "+pools+"/{poolId}/sessions", authOrg, s.createSession)
	s.handle("DELETE "+pools+"/{poolId}/sessions/{sessionId}", authOrg, s.deleteSession)
	s.handle("GET "+pools+"/{poolId}/messages", authOrg, s.getMessage)
	s.handle("DELETE "+pools+"/{poolId}/messages/{messageId}", authOrg, s.deleteMessage)
	s.handle("PATCH "+pools+"/{poolId}/jobrequests/{requestId}", authOrg, s.updateJobRequest)
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	poolID, err := pathInt(r, "poolId")
	if err != nil {
		return err
	}
	var in wireSession
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	if in.Agent == nil || in.Agent.ID == 0 {
		return errf(http.StatusBadRequest, "ArgumentNullException", "Value cannot be null.\r\nParameter name: session.Agent")
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	sess, err := o.createSessionLocked(poolID, in.Agent.ID, in.OwnerName)
	if err != nil {
		return err
	}
	a := o.agents[sess.agentID]
	ref := o.wireAgentRefLocked(orgBase(r), a)
	writeJSON(w, http.StatusOK, wireSession{
		SessionID: sess.id, OwnerName: sess.owner, Agent: &ref, SystemCapabilities: a.system,
		UseFipsEncryption: in.UseFipsEncryption,
	})
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	poolID, err := pathInt(r, "poolId")
	if err != nil {
		return err
	}
	sess, unlock, err := s.lockSession(poolID, r.PathValue("sessionId"))
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	if a := o.agents[sess.agentID]; a != nil {
		o.dropSessionLocked(a, false)
	} else {
		delete(o.sessions, sess.id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getMessage long-polls: it answers 200 with the next message, or 202 with no body when none
// arrives within the poll timeout.
func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) error {
	poolID, err := pathInt(r, "poolId")
	if err != nil {
		return err
	}
	sessionID := r.URL.Query().Get("sessionId")
	var last int64
	if v := r.URL.Query().Get("lastMessageId"); v != "" {
		if last, err = strconv.ParseInt(v, 10, 64); err != nil {
			return errBadRequest("The value %q of lastMessageId is not a valid integer.", v)
		}
	}
	timer := time.NewTimer(s.pollTimeout)
	defer timer.Stop()
	o := s.org
	for {
		o.mu.Lock()
		msg, changed, err := o.nextMessageLocked(poolID, sessionID, last)
		o.mu.Unlock()
		if err != nil {
			return err
		}
		if msg != nil {
			writeJSON(w, http.StatusOK, msg)
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			w.WriteHeader(http.StatusAccepted)
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) error {
	poolID, id, err := poolIDAnd64(r, "messageId")
	if err != nil {
		return err
	}
	sess, unlock, err := s.lockSession(poolID, r.URL.Query().Get("sessionId"))
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	sess.lastSeen = o.clock.Now()
	o.ackLocked(sess, id, true)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) updateJobRequest(w http.ResponseWriter, r *http.Request) error {
	poolID, id, err := poolIDAnd64(r, "requestId")
	if err != nil {
		return err
	}
	var in wireJobRequestIn
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	j, err := o.updateJobRequestLocked(poolID, id, r.URL.Query().Get("lockToken"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o.wireJobLocked(orgBase(r), j, false))
	return nil
}
