package adosim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The agent protocol on the Org: a session makes an agent online; jobs reach it as messages
// that it polls for, acknowledges and then renews and finishes with the job's lock token.

type session struct {
	id        string
	poolID    int
	agentID   int
	owner     string
	lastSeen  time.Time
	messages  []*message
	createdOn time.Time
}

type message struct {
	id        int64
	requestID int64
}

// createSessionLocked opens a session for the agent (it goes online). ADO refuses a second
// session for an agent that still has one.
func (o *Org) createSessionLocked(poolID, agentID int, owner string) (*session, error) {
	a, err := o.agentLocked(poolID, agentID)
	if err != nil {
		return nil, err
	}
	if a.online() {
		return nil, errf(http.StatusConflict, "TaskAgentSessionConflictException",
			"A session for agent %s already exists.", a.name)
	}
	now := o.clock.Now()
	s := &session{id: o.uuidLocked(), poolID: poolID, agentID: a.id, owner: owner, lastSeen: now, createdOn: now}
	o.sessions[s.id] = s
	a.sessionID = s.id
	a.statusChangedOn = now
	if a.assigned == 0 {
		a.idleSince = now
	}
	o.assignLocked()
	o.notifyLocked()
	return s, nil
}

// dropSessionLocked takes the agent offline. An assigned job whose message was not yet delivered
// goes back to the queue; a delivered one stays with the agent, which may still finish it by its
// lock token. requeueAll (agent deleted or replaced) requeues in every case.
func (o *Org) dropSessionLocked(a *agent, requeueAll bool) {
	if a.sessionID == "" {
		return
	}
	delete(o.sessions, a.sessionID)
	a.sessionID = ""
	a.statusChangedOn = o.clock.Now()
	if a.assigned != 0 {
		if j := o.jobs[a.assigned]; requeueAll || j == nil || !j.delivered {
			o.requeueAssignedLocked(a, "session closed")
		}
	}
	o.assignLocked()
	o.notifyLocked()
}

func (o *Org) sessionLocked(poolID int, sessionID string) (*session, error) {
	if _, err := o.poolLocked(poolID); err != nil {
		return nil, err
	}
	s, ok := o.sessions[sessionID]
	if !ok || s.poolID != poolID {
		return nil, errSessionExpired(sessionID)
	}
	return s, nil
}

// nextMessageLocked returns the session's first unacknowledged message (messages up to
// lastMessageID count as acknowledged), or nil and the channel to wait on for a change.
func (o *Org) nextMessageLocked(poolID int, sessionID string, lastMessageID int64) (*wireMessage, <-chan struct{}, error) {
	s, err := o.sessionLocked(poolID, sessionID)
	if err != nil {
		return nil, nil, err
	}
	s.lastSeen = o.clock.Now()
	o.ackLocked(s, lastMessageID, false)
	for _, m := range s.messages {
		j := o.jobs[m.requestID]
		if j == nil || j.finished() || j.agentID != s.agentID || j.messageID != m.id {
			continue
		}
		if !j.delivered {
			j.delivered = true
			j.receiveTime = o.clock.Now()
			j.starts++
			j.ranBy = append(j.ranBy, s.agentID)
		}
		body, err := json.Marshal(JobMessage{
			RequestID: j.id, LockToken: j.lockToken, JobID: j.jobID, JobName: j.jobName,
			JobDisplayName: j.jobName, SimulatedDurationMs: j.duration.Milliseconds(),
			Plan: JobMsgPlan{PlanID: j.planID, PlanType: j.planType, ScopeIdentifier: j.scopeID},
		})
		if err != nil {
			return nil, nil, errf(http.StatusInternalServerError, "VssServiceException", "encode job message: %v", err)
		}
		return &wireMessage{MessageID: m.id, MessageType: JobMessageType, Body: string(body)}, nil, nil
	}
	return nil, o.changed, nil
}

// ackLocked drops messages up to id (all of them when exact is false, only id when true).
func (o *Org) ackLocked(s *session, id int64, exact bool) bool {
	found := false
	kept := s.messages[:0]
	for _, m := range s.messages {
		if (exact && m.id == id) || (!exact && m.id <= id) {
			found = found || m.id == id
			continue
		}
		kept = append(kept, m)
	}
	s.messages = kept
	return found
}

// updateJobRequestLocked is PATCH jobrequests/{id}?lockToken=: renew the lock, or finish the
// job when the body carries a result.
func (o *Org) updateJobRequestLocked(poolID int, requestID int64, lockToken string, in wireJobRequestIn) (*job, error) {
	if _, err := o.poolLocked(poolID); err != nil {
		return nil, err
	}
	j, err := o.jobLocked(poolID, requestID)
	if err != nil {
		return nil, err
	}
	if j.finished() {
		return nil, errf(http.StatusConflict, "TaskAgentJobTokenExpiredException",
			"The job request %d has already completed with result %s.", j.id, j.result)
	}
	if j.agentID == 0 || !strings.EqualFold(j.lockToken, lockToken) {
		return nil, errf(http.StatusConflict, "TaskAgentJobTokenExpiredException",
			"The lock token for job request %d has expired or does not match.", j.id)
	}
	now := o.clock.Now()
	if a := o.agents[j.agentID]; a != nil {
		if s := o.sessions[a.sessionID]; s != nil {
			s.lastSeen = now
		}
	}
	if in.Result == nil || *in.Result == "" {
		j.lockedUntil = now.Add(o.lockDuration)
		return j, nil
	}
	switch *in.Result {
	case "succeeded", "succeededWithIssues", "failed", "canceled", "skipped", "abandoned":
	default:
		return nil, errBadRequest("Invalid result %q.", *in.Result)
	}
	o.finishLocked(j, *in.Result)
	return j, nil
}
