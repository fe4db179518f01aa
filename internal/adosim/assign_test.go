package adosim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
)

func TestAssignmentRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// agents: name -> capabilities; the setup tweaks some of them.
		setup     func(t *testing.T, e *env, poolID int) map[string]*protoAgent
		demands   []string
		wantAgent string // "" = stays queued
	}{
		{
			name: "idle enabled online agent takes the job",
			setup: func(t *testing.T, e *env, poolID int) map[string]*protoAgent {
				return map[string]*protoAgent{"a": e.connect(t, poolID, "a", nil)}
			},
			wantAgent: "a",
		},
		{
			name: "disabled agent is skipped",
			setup: func(t *testing.T, e *env, poolID int) map[string]*protoAgent {
				a := e.connect(t, poolID, "a", nil)
				mustJSON(t, http.StatusOK, "PATCH", a.url+"/agents/"+itoa(a.id), map[string]any{"enabled": false}, nil)
				return map[string]*protoAgent{"a": a, "b": e.connect(t, poolID, "b", nil)}
			},
			wantAgent: "b",
		},
		{
			name: "offline agent is skipped",
			setup: func(t *testing.T, e *env, poolID int) map[string]*protoAgent {
				return map[string]*protoAgent{"a": e.register(t, poolID, "a", nil)}
			},
			wantAgent: "",
		},
		{
			name: "busy agent is skipped",
			setup: func(t *testing.T, e *env, poolID int) map[string]*protoAgent {
				a := e.connect(t, poolID, "a", nil)
				e.queue(t, "p", adosim.JobSpec{JobName: "first"}) // a takes it
				return map[string]*protoAgent{"a": a}
			},
			wantAgent: "",
		},
		{
			name: "demands: exists and equals (case-insensitive)",
			setup: func(t *testing.T, e *env, poolID int) map[string]*protoAgent {
				e.connect(t, poolID, "plain", map[string]string{"Agent.OS": "Windows_NT"})
				return map[string]*protoAgent{"linux": e.connect(t, poolID, "linux", map[string]string{"docker": "", "Agent.OS": "Linux"})}
			},
			demands:   []string{"docker", "agent.os -equals linux"},
			wantAgent: "linux",
		},
		{
			name: "demands: gtVersion",
			setup: func(t *testing.T, e *env, poolID int) map[string]*protoAgent {
				e.connect(t, poolID, "old", map[string]string{"node": "16.2.0"})
				return map[string]*protoAgent{"new": e.connect(t, poolID, "new", map[string]string{"node": "18.0"})}
			},
			demands:   []string{"node -gtVersion 18.0.0"},
			wantAgent: "new",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
			poolID := e.addPool(t, "p")
			tc.setup(t, e, poolID)
			id := e.queue(t, "p", adosim.JobSpec{Demands: tc.demands})
			j := e.job(t, id)
			if j.AgentName != tc.wantAgent {
				t.Fatalf("job went to %q (state %s, result %q), want %q", j.AgentName, j.State, j.Result, tc.wantAgent)
			}
			if tc.wantAgent == "" && j.State != adosim.JobQueued {
				t.Fatalf("job state %s (%s), want queued", j.State, j.StatusMessage)
			}
		})
	}
}

func TestOldestMatchingJobFirst(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	e.register(t, poolID, "placeholder", map[string]string{"docker": "1", "gpu": "1"})
	gpu := e.queue(t, "p", adosim.JobSpec{Demands: []string{"gpu"}})
	first := e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}})
	second := e.queue(t, "p", adosim.JobSpec{Demands: []string{"docker"}})

	a := e.connect(t, poolID, "docker-only", map[string]string{"docker": "1"})
	if got := e.job(t, first); got.AgentName != "docker-only" {
		t.Fatalf("oldest docker job went to %q, want docker-only", got.AgentName)
	}
	if got := e.job(t, gpu); got.State != adosim.JobQueued {
		t.Fatalf("gpu job state %s, want queued (no gpu agent online)", got.State)
	}
	jm := a.poll()
	if jm == nil || jm.RequestID != first {
		t.Fatalf("agent polled %+v, want request %d", jm, first)
	}
	if r := a.finish(jm, "succeeded"); r.status != http.StatusOK {
		t.Fatalf("finish: %d %s", r.status, r.body)
	}
	if got := e.job(t, second); got.AgentName != "docker-only" {
		t.Fatalf("after the first finished, second went to %q", got.AgentName)
	}
}

func TestFailAtOnceWithoutMatchingAgent(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "linux")

	id := e.queue(t, "linux", adosim.JobSpec{Demands: []string{"docker"}})
	j := e.job(t, id)
	if j.Result != "failed" || !strings.Contains(j.StatusMessage, "linux") || !strings.Contains(j.StatusMessage, "docker") {
		t.Fatalf("job in an empty pool: result %q message %q, want failed naming pool and demands", j.Result, j.StatusMessage)
	}

	// An offline, even disabled, matching agent keeps the job queued...
	placeholder := e.register(t, poolID, "placeholder", map[string]string{"docker": "1"})
	mustJSON(t, http.StatusOK, "PATCH", placeholder.url+"/agents/"+itoa(placeholder.id), map[string]any{"enabled": false}, nil)
	other := e.register(t, poolID, "other", nil)
	id = e.queue(t, "linux", adosim.JobSpec{Demands: []string{"docker"}})
	if j := e.job(t, id); j.State != adosim.JobQueued {
		t.Fatalf("with an offline matching agent: state %s (%s), want queued", j.State, j.StatusMessage)
	}
	// ...deleting a non-matching agent changes nothing...
	mustJSON(t, http.StatusNoContent, "DELETE", other.url+"/agents/"+itoa(other.id), nil, nil)
	if j := e.job(t, id); j.State != adosim.JobQueued {
		t.Fatalf("after deleting a non-matching agent: state %s", j.State)
	}
	// ...and deleting the last matching agent fails it.
	mustJSON(t, http.StatusNoContent, "DELETE", placeholder.url+"/agents/"+itoa(placeholder.id), nil, nil)
	if j := e.job(t, id); j.Result != "failed" || j.StatusMessage == "" {
		t.Fatalf("after deleting the last matching agent: result %q message %q, want failed", j.Result, j.StatusMessage)
	}
}

func agentStatus(t *testing.T, a *protoAgent) agentJSON {
	t.Helper()
	var got agentJSON
	mustJSON(t, http.StatusOK, "GET", a.url+"/agents/"+itoa(a.id)+"?includeAssignedRequest=true&includeLastCompletedRequest=true", nil, &got)
	return got
}

func TestAgentStateWalk(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")

	a := e.register(t, poolID, "walker", nil)
	if s := agentStatus(t, a); s.Status != "offline" || s.AssignedRequest != nil {
		t.Fatalf("registered: %+v, want offline and idle", s)
	}
	a.openSession()
	if s := agentStatus(t, a); s.Status != "online" || s.AssignedRequest != nil {
		t.Fatalf("session open: %+v, want online and idle", s)
	}
	if jm := a.poll(); jm != nil {
		t.Fatalf("poll with no jobs returned %+v", jm)
	}
	id := e.queue(t, "p", adosim.JobSpec{Duration: time.Second})
	if s := agentStatus(t, a); s.AssignedRequest == nil || s.AssignedRequest.RequestID != id {
		t.Fatalf("job queued: assignedRequest %+v, want %d", s.AssignedRequest, id)
	}
	if j := e.job(t, id); j.State != adosim.JobAssigned {
		t.Fatalf("before the poll: job state %s, want assigned", j.State)
	}
	jm := a.poll()
	if jm == nil || jm.RequestID != id || jm.SimulatedDurationMs != 1000 || jm.LockToken == "" || jm.Plan.PlanID == "" {
		t.Fatalf("poll: %+v, want request %d lasting 1000ms with lock token and plan", jm, id)
	}
	if j := e.job(t, id); j.State != adosim.JobRunning || j.Starts != 1 || j.ReceiveTime.IsZero() {
		t.Fatalf("after the poll: %+v, want running, started once", j)
	}
	if r := a.finish(&adosim.JobMessage{RequestID: id, LockToken: "wrong"}, "succeeded"); r.status != http.StatusConflict {
		t.Fatalf("finish with a wrong lock token: status %d, want 409", r.status)
	}
	if r := a.finish(jm, "succeeded"); r.status != http.StatusOK {
		t.Fatalf("finish: %d %s", r.status, r.body)
	}
	s := agentStatus(t, a)
	if s.Status != "online" || s.AssignedRequest != nil || s.LastCompleted == nil || s.LastCompleted.RequestID != id {
		t.Fatalf("finished: %+v, want online, idle, lastCompletedRequest %d", s, id)
	}
	a.closeSession()
	if s := agentStatus(t, a); s.Status != "offline" {
		t.Fatalf("session closed: status %s, want offline", s.Status)
	}
	if j := e.job(t, id); j.Result != "succeeded" || j.AgentName != "walker" {
		t.Fatalf("job: %+v", j)
	}
}

func TestRequeueWhenSessionDies(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	e := start(t, adosim.OrgOptions{Clock: clock, SessionTimeout: time.Minute}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	dying := e.connect(t, poolID, "dying", nil)
	id := e.queue(t, "p", adosim.JobSpec{})
	if jm := dying.poll(); jm == nil || jm.RequestID != id {
		t.Fatalf("dying agent polled %+v", jm)
	}

	clock.Advance(2 * time.Minute) // the agent stops polling and renewing: it died
	j := e.job(t, id)
	if j.State != adosim.JobQueued || j.Starts != 1 {
		t.Fatalf("after the session expired: %+v, want queued again, started once", j)
	}
	if s := agentStatus(t, dying); s.Status != "offline" || s.AssignedRequest != nil {
		t.Fatalf("dead agent: %+v, want offline without request", s)
	}

	healthy := e.connect(t, poolID, "healthy", nil)
	jm := healthy.poll()
	if jm == nil || jm.RequestID != id {
		t.Fatalf("healthy agent polled %+v, want the requeued job", jm)
	}
	j = e.job(t, id)
	if j.Starts != 2 || len(j.RanBy) != 2 || j.RanBy[0] != dying.id || j.RanBy[1] != healthy.id {
		t.Fatalf("requeued job: starts %d ranBy %v, want 2 starts on dying then healthy", j.Starts, j.RanBy)
	}
}

func TestUndeliveredJobRequeuedWhenSessionClosed(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{})
	poolID := e.addPool(t, "p")
	a := e.connect(t, poolID, "a", nil)
	id := e.queue(t, "p", adosim.JobSpec{})
	a.closeSession() // before ever polling the message
	if j := e.job(t, id); j.State != adosim.JobQueued || j.Starts != 0 {
		t.Fatalf("job after the session closed: %+v, want queued, never started", j)
	}
}

func TestLongPollEndsWith202(t *testing.T) {
	t.Parallel()
	e := start(t, adosim.OrgOptions{}, adosim.ServerOptions{MessagePollTimeout: 20 * time.Millisecond})
	poolID := e.addPool(t, "p")
	a := e.connect(t, poolID, "a", nil)
	r := call(t, "GET", a.url+"/messages?sessionId="+a.session, testPAT, nil)
	if r.status != http.StatusAccepted || len(r.body) != 0 {
		t.Fatalf("empty poll: status %d body %q, want 202 and no body", r.status, r.body)
	}
	r = call(t, "GET", a.url+"/messages?sessionId=00000000-0000-0000-0000-000000000000", testPAT, nil)
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "TaskAgentSessionExpiredException") {
		t.Fatalf("unknown session: status %d body %s", r.status, r.body)
	}
	r = call(t, "POST", a.url+"/sessions", testPAT, map[string]any{"ownerName": "x", "agent": map[string]any{"id": a.id}})
	if r.status != http.StatusConflict {
		t.Fatalf("second session: status %d, want 409", r.status)
	}
}
