package adosim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Plans record what a check (or a job) posts back: plan events, logs and timeline feed lines.
// Every plan has a job token; its calls authenticate with that token only.

// PlanSpec identifies a plan and the token its callbacks must carry.
type PlanSpec struct {
	ProjectID      string // scopeIdentifier; default the org's project
	HubName        string // "build", "release", "checks"; default "checks"
	PlanID         string
	JobID          string
	TimelineID     string
	TaskInstanceID string
	Token          string // the job access token; default a new random token
}

// PlanEvent is one event posted to a plan.
type PlanEvent struct {
	Name   string
	TaskID string
	JobID  string
	Result string
	Raw    json.RawMessage
	Time   time.Time
}

// PlanLog is one log created on a plan with the lines appended to it.
type PlanLog struct {
	ID    int
	Path  string
	Lines []string
}

// PlanInfo is a plan with everything posted to it.
type PlanInfo struct {
	PlanSpec
	Events []PlanEvent
	Logs   []PlanLog
	// Feed holds lines appended to timeline record feeds, in order.
	Feed []string
	// TaskCompleted counts TaskCompleted events for the plan's task instance: the first decides
	// a check, more than one is a double callback (recorded, ignored).
	TaskCompleted int
	// CheckRequestID is the job request whose check runs in this plan; 0 if none.
	CheckRequestID int64
}

type plan struct {
	spec      PlanSpec
	events    []PlanEvent
	logs      []*planLog
	feed      []string
	createdOn time.Time
	// checkJob is the request id of the job whose check runs in this plan (0: not a check).
	checkJob int64
	// completions counts TaskCompleted events for the plan's task instance.
	completions int
}

type planLog struct {
	id        int
	path      string
	lines     []string
	createdOn time.Time
	changedOn time.Time
}

// AddPlan registers a plan (as ADO does when it invokes a check) and returns the spec with every
// defaulted field filled in, including the token. An existing plan id is returned unchanged.
func (o *Org) AddPlan(spec PlanSpec) PlanSpec {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ensurePlanLocked(spec).spec
}

func (o *Org) ensurePlanLocked(spec PlanSpec) *plan {
	if spec.PlanID != "" {
		if p, ok := o.plans[strings.ToLower(spec.PlanID)]; ok {
			return p
		}
	}
	if spec.ProjectID == "" {
		spec.ProjectID = o.projectIDLocked(o.project)
	}
	if spec.HubName == "" {
		spec.HubName = "checks"
	}
	for _, f := range []*string{&spec.PlanID, &spec.JobID, &spec.TimelineID, &spec.TaskInstanceID} {
		if *f == "" {
			*f = o.uuidLocked()
		}
	}
	if spec.Token == "" {
		spec.Token = strings.ReplaceAll(o.uuidLocked()+o.uuidLocked(), "-", "")
	}
	p := &plan{spec: spec, createdOn: o.clock.Now()}
	o.plans[strings.ToLower(spec.PlanID)] = p
	return p
}

// planLocked finds a plan by project scope, hub and id.
func (o *Org) planLocked(scope, hub, planID string) (*plan, error) {
	p, ok := o.plans[strings.ToLower(planID)]
	_, pid, known := o.resolveProjectLocked(scope)
	if !ok || !known || !strings.EqualFold(p.spec.ProjectID, pid) || !strings.EqualFold(p.spec.HubName, hub) {
		return nil, errf(http.StatusNotFound, "TaskOrchestrationPlanNotFoundException", "Plan %s not found.", planID)
	}
	return p, nil
}

// Plan returns a plan and everything posted to it.
func (o *Org) Plan(planID string) (PlanInfo, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.plans[strings.ToLower(planID)]
	if !ok {
		return PlanInfo{}, false
	}
	info := PlanInfo{PlanSpec: p.spec, Events: append([]PlanEvent(nil), p.events...), Feed: append([]string(nil), p.feed...),
		TaskCompleted: p.completions, CheckRequestID: p.checkJob}
	for _, l := range p.logs {
		info.Logs = append(info.Logs, PlanLog{ID: l.id, Path: l.path, Lines: append([]string(nil), l.lines...)})
	}
	return info, true
}
