package adosim

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Plan callbacks, as an Approvals-and-Checks "Invoke REST API" check makes them: post events
// (TaskCompleted), create a log and append lines to it, append to a timeline record feed. They
// authenticate with the plan's job token only.

func (s *Server) planRoutes() {
	const plans = "/{org}/{scope}/_apis/distributedtask/hubs/{hub}/plans/{planId}"
	s.handle("POST "+plans+"/events", authPlan, s.postEvent)
	s.handle("POST "+plans+"/logs", authPlan, s.createLog)
	s.handle("POST "+plans+"/logs/{logId}", authPlan, s.appendLog)
	s.handle("POST "+plans+"/timelines/{timelineId}/records/{recordId}/feed", authPlan, s.appendFeed)
}

func (o *Org) planToken(planID string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.plans[strings.ToLower(planID)]
	if !ok {
		return "", false
	}
	return p.spec.Token, true
}

func (s *Server) planFromPath(r *http.Request) (*plan, error) {
	return s.org.planLocked(r.PathValue("scope"), r.PathValue("hub"), r.PathValue("planId"))
}

func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return err
	}
	var ev struct {
		Name   string `json:"name"`
		TaskID string `json:"taskId"`
		JobID  string `json:"jobId"`
		Result string `json:"result"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Name == "" || ev.JobID == "" {
		return errf(http.StatusBadRequest, "ArgumentNullException", "Value cannot be null.\r\nParameter name: eventData (name and jobId are required)")
	}
	p, unlock, err := s.lockPlan(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	pe := PlanEvent{Name: ev.Name, TaskID: ev.TaskID, JobID: ev.JobID, Result: ev.Result, Raw: raw, Time: o.clock.Now()}
	p.events = append(p.events, pe)
	o.checkEventLocked(p, pe)
	o.notifyLocked()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func wireLog(l *planLog) wireTaskLog {
	return wireTaskLog{ID: l.id, Path: l.path, LineCount: int64(len(l.lines)), CreatedOn: l.createdOn, LastChangedOn: l.changedOn}
}

func (s *Server) createLog(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Path string `json:"path"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	p, unlock, err := s.lockPlan(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	now := o.clock.Now()
	l := &planLog{id: len(p.logs) + 1, path: in.Path, createdOn: now, changedOn: now}
	p.logs = append(p.logs, l)
	writeJSON(w, http.StatusOK, wireLog(l))
	return nil
}

// appendLog takes the raw text (application/octet-stream) and appends its lines.
func (s *Server) appendLog(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "logId")
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	p, unlock, err := s.lockPlan(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	if id < 1 || id > len(p.logs) {
		return errf(http.StatusNotFound, "TaskLogNotFoundException", "Log %d does not exist in plan %s.", id, p.spec.PlanID)
	}
	l := p.logs[id-1]
	text := strings.TrimRight(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if text != "" {
		l.lines = append(l.lines, strings.Split(text, "\n")...)
	}
	l.changedOn = o.clock.Now()
	o.notifyLocked()
	writeJSON(w, http.StatusOK, wireLog(l))
	return nil
}

func (s *Server) appendFeed(w http.ResponseWriter, r *http.Request) error {
	var in wireFeed
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	p, unlock, err := s.lockPlan(r)
	if err != nil {
		return err
	}
	defer unlock()
	o := s.org
	p.feed = append(p.feed, in.Value...)
	o.notifyLocked()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
