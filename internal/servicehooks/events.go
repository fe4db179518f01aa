package servicehooks

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/notify"
)

// decision is what one delivery leads to: the events to publish, whether to wake the pools, or
// why it was ignored.
type decision struct {
	events  []notify.Event
	wake    bool
	ignored string
}

// runInfo is the part of a run every notification carries.
type runInfo struct {
	pipeline, pipelineURL, runID, runName, result string
	commit, branch, requestedBy, project          string
	started, finished                             time.Time
}

// interpret turns a parsed envelope into a decision. Errors are *fieldError.
func (h *Handler) interpret(env envelope) (decision, error) {
	switch env.EventType {
	case EventRunStateChanged, EventStageStateChanged, EventJobStateChanged:
		if len(env.Resource) == 0 || string(env.Resource) == "null" {
			return decision{}, missing("resource")
		}
		var res pipelinesResource
		if err := decodeJSON(env.Resource, &res, "resource"); err != nil {
			return decision{}, err
		}
		switch env.EventType {
		case EventRunStateChanged:
			return h.runEvent(env, res)
		case EventStageStateChanged:
			return h.stageEvent(env, res)
		default:
			return h.jobEvent(env, res)
		}
	case EventBuildComplete:
		if len(env.Resource) == 0 || string(env.Resource) == "null" {
			return decision{}, missing("resource")
		}
		var b buildResource
		if err := decodeJSON(env.Resource, &b, "resource"); err != nil {
			return decision{}, err
		}
		return h.buildEvent(env, b)
	}
	return decision{ignored: fmt.Sprintf("event type %q is not one adofleet reports", env.EventType)}, nil
}

func (h *Handler) runEvent(env envelope, res pipelinesResource) (decision, error) {
	if res.Run == nil {
		return decision{}, missing("resource.run")
	}
	if res.Run.State == "" {
		return decision{}, missing("resource.run.state")
	}
	if res.Run.State != "completed" {
		return decision{ignored: "run is " + res.Run.State + ", not completed"}, nil
	}
	info, err := runInfoOf(env, res)
	if err != nil {
		return decision{}, err
	}
	if info.result == "" {
		return decision{}, missing("resource.run.result")
	}
	summary := fmt.Sprintf("pipeline %s run %s %s", info.pipeline, info.runName, info.result)
	return decision{events: []notify.Event{h.event(notify.RunCompleted, info, summary, nil)}}, nil
}

func (h *Handler) stageEvent(env envelope, res pipelinesResource) (decision, error) {
	if res.Stage == nil {
		return decision{}, missing("resource.stage")
	}
	if res.Stage.State == "" {
		return decision{}, missing("resource.stage.state")
	}
	if res.Stage.State != "completed" || res.Stage.Result != "failed" {
		return decision{ignored: "stage is " + res.Stage.State + " " + res.Stage.Result + ", not failed"}, nil
	}
	info, err := runInfoOf(env, res)
	if err != nil {
		return decision{}, err
	}
	stage := nodeName(res.Stage)
	info.result = res.Stage.Result
	if info.pipelineURL == "" {
		info.pipelineURL = res.Stage.Links["web"].Href
	}
	summary := fmt.Sprintf("pipeline %s run %s: stage %s failed", info.pipeline, info.runName, stage)
	return decision{events: []notify.Event{h.event(notify.RunStageFailed, info, summary, map[string]string{"stage": stage})}}, nil
}

func (h *Handler) jobEvent(env envelope, res pipelinesResource) (decision, error) {
	if res.Job == nil {
		return decision{}, missing("resource.job")
	}
	switch res.Job.State {
	case "":
		return decision{}, missing("resource.job.state")
	case "waiting", "queued":
		// A job waits for an agent: reconcile now rather than at the next resync.
		return decision{wake: true, ignored: "job is waiting for an agent"}, nil
	}
	if res.Job.State != "completed" || res.Job.Result != "failed" {
		return decision{ignored: "job is " + res.Job.State + " " + res.Job.Result + ", not failed"}, nil
	}
	info, err := runInfoOf(env, res)
	if err != nil {
		return decision{}, err
	}
	started, err := parseTime("resource.job.startTime", res.Job.StartTime)
	if err != nil {
		return decision{}, err
	}
	finished, err := parseTime("resource.job.finishTime", res.Job.FinishTime)
	if err != nil {
		return decision{}, err
	}
	info.started, info.finished, info.result = started, finished, res.Job.Result
	if info.pipelineURL == "" {
		info.pipelineURL = res.Job.Links["web"].Href
	}
	job := nodeName(res.Job)
	extra := map[string]string{"job": job}
	if res.Stage != nil {
		extra["stage"] = nodeName(res.Stage)
	}
	summary := fmt.Sprintf("pipeline %s run %s: job %s failed", info.pipeline, info.runName, job)
	return decision{events: []notify.Event{h.event(notify.RunJobFailed, info, summary, extra)}}, nil
}

// runInfoOf reads the run, pipeline, repository and project of a pipelines event.
func runInfoOf(env envelope, res pipelinesResource) (runInfo, error) {
	r := res.Run
	if r == nil {
		return runInfo{}, missing("resource.run")
	}
	if r.ID <= 0 {
		return runInfo{}, missing("resource.run.id")
	}
	info := runInfo{runID: strconv.FormatInt(r.ID, 10), runName: r.Name, result: r.Result}
	switch {
	case res.Pipeline != nil && res.Pipeline.Name != "":
		info.pipeline = res.Pipeline.Name
	case r.Pipeline != nil && r.Pipeline.Name != "":
		info.pipeline = r.Pipeline.Name
	default:
		return runInfo{}, missing("resource.pipeline.name")
	}
	if info.runName == "" {
		info.runName = info.runID
	}
	info.pipelineURL = r.Links["web"].Href
	if r.Resources != nil {
		repo, ok := r.Resources.Repositories["self"]
		if !ok && len(r.Resources.Repositories) == 1 {
			for _, only := range r.Resources.Repositories {
				repo = only
			}
		}
		info.branch, info.commit = shortRef(repo.RefName), repo.Version
	}
	var err error
	if info.started, err = parseTime("resource.run.createdDate", r.CreatedDate); err != nil {
		return runInfo{}, err
	}
	if info.finished, err = parseTime("resource.run.finishedDate", r.FinishedDate); err != nil {
		return runInfo{}, err
	}
	info.project = projectOf(env, res.Project)
	return info, nil
}

func (h *Handler) buildEvent(env envelope, b buildResource) (decision, error) {
	if b.ID <= 0 {
		return decision{}, missing("resource.id")
	}
	if b.Definition == nil || b.Definition.Name == "" {
		return decision{}, missing("resource.definition.name")
	}
	info := runInfo{
		pipeline: b.Definition.Name, pipelineURL: b.Links["web"].Href, runID: strconv.FormatInt(b.ID, 10),
		runName: b.BuildNumber, result: b.Result, commit: b.SourceVersion, branch: shortRef(b.SourceBranch),
		project: projectOf(env, b.Project),
	}
	if info.result == "" && b.Status != "completed" {
		info.result = b.Status // the oldest payloads put the result in status
	}
	if info.result == "" {
		return decision{}, missing("resource.result")
	}
	if info.runName == "" {
		info.runName = info.runID
	}
	switch {
	case b.RequestedFor != nil:
		info.requestedBy = b.RequestedFor.DisplayName
	case len(b.Requests) > 0 && b.Requests[0].RequestedFor != nil:
		info.requestedBy = b.Requests[0].RequestedFor.DisplayName
	}
	var err error
	if info.started, err = parseTime("resource.startTime", b.StartTime); err != nil {
		return decision{}, err
	}
	if info.finished, err = parseTime("resource.finishTime", b.FinishTime); err != nil {
		return decision{}, err
	}
	summary := fmt.Sprintf("pipeline %s run %s %s", info.pipeline, info.runName, info.result)
	return decision{events: []notify.Event{h.event(notify.RunCompleted, info, summary, nil)}}, nil
}

// event builds the notification for info. Extra fields (stage, job) are added to RunCompleted's.
func (h *Handler) event(t notify.EventType, info runInfo, summary string, extra map[string]string) notify.Event {
	duration := ""
	if !info.started.IsZero() && !info.finished.IsZero() && !info.finished.Before(info.started) {
		d := info.finished.Sub(info.started).Round(time.Second)
		duration = d.String()
		summary += " in " + duration
	}
	if info.branch != "" {
		summary += " on " + info.branch
	}
	if info.commit != "" {
		summary += " (" + shortCommit(info.commit) + ")"
	}
	fields := map[string]string{
		"pipeline": info.pipeline, "pipelineUrl": info.pipelineURL, "runId": info.runID,
		"result": info.result, "commit": info.commit, "branch": info.branch,
		"requestedBy": info.requestedBy, "duration": duration, "project": info.project,
		"account": h.opts.Account, "region": h.opts.Region,
	}
	key := string(t) + "/" + info.project + "/" + info.runID
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		fields[k] = extra[k]
		key += "/" + extra[k]
	}
	at := info.finished
	if at.IsZero() {
		at = h.opts.Now()
	}
	return notify.Event{
		Type: t, Severity: severityOf(info.result), Time: at.UTC(), Summary: summary, Fields: fields,
		// A redelivered hook (ADO retries a delivery it thinks failed) is the same alert.
		DedupKey: key,
	}
}

// severityOf maps a run, stage or job result to a severity.
func severityOf(result string) notify.Severity {
	switch strings.ToLower(result) {
	case "succeeded":
		return notify.SeverityInfo
	case "failed":
		return notify.SeverityError
	default: // partiallySucceeded, canceled, skipped, rejected, ...
		return notify.SeverityWarning
	}
}

// projectOf is the project's name when the payload has it, else its id from resourceContainers.
func projectOf(env envelope, p *named) string {
	if p != nil && p.Name != "" {
		return p.Name
	}
	return env.ResourceContainers["project"].ID
}

func nodeName(n *node) string {
	if n.DisplayName != "" {
		return n.DisplayName
	}
	return n.Name
}

// shortRef drops refs/heads/ from a branch ref; other refs (tags, pull requests) stay whole.
func shortRef(ref string) string { return strings.TrimPrefix(ref, "refs/heads/") }

func shortCommit(c string) string {
	if len(c) > 8 {
		return c[:8]
	}
	return c
}
