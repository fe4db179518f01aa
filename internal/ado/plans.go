package ado

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Plan calls answer an Approvals-and-Checks "Invoke REST API" check in callback mode
// (distributedTask 7.1, shared/specs/ado/distributedTask/7.1/task.json). They go to the plan's
// own URL (system.CollectionUri) and authenticate with the job access token ADO sent with the
// check (PlanRef.AuthToken), never with the client's PAT.

// planURL builds {PlanURL}{ProjectID}/_apis/distributedtask/hubs/{HubName}/plans/{PlanID}/{rest}.
func planURL(p PlanRef, rest string) (string, error) {
	base, err := url.Parse(p.PlanURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return "", fmt.Errorf("plan URL %q is not an http(s) URL", p.PlanURL)
	}
	for name, v := range map[string]string{"ProjectID": p.ProjectID, "HubName": p.HubName, "PlanID": p.PlanID} {
		if v == "" || strings.ContainsAny(v, "/?#") {
			return "", fmt.Errorf("plan %s %q is empty or not a path segment", name, v)
		}
	}
	base.Path = strings.TrimSuffix(base.Path, "/") + "/" + p.ProjectID +
		"/_apis/distributedtask/hubs/" + p.HubName +
		"/plans/" + p.PlanID + "/" + rest
	base.RawPath = ""
	base.RawQuery = withVersion(nil, apiVersion).Encode()
	return base.String(), nil
}

func planAuth(p PlanRef) (string, error) {
	if p.AuthToken == "" {
		return "", errors.New("plan AuthToken is empty")
	}
	if strings.ContainsAny(p.AuthToken, "\r\n") {
		return "", errors.New("plan AuthToken contains a line break")
	}
	return "Bearer " + p.AuthToken, nil
}

// PostJobEvent posts a plan event (TaskCompleted for a check callback):
// POST {PlanURL}{ProjectID}/_apis/distributedtask/hubs/{HubName}/plans/{PlanID}/events.
// ADO answers 204 (httpExamples/events/POST_distributedtask_PostEvent_.json). Not idempotent, so
// only 429 and 503+Retry-After are retried; exactly-once is the caller's job (see checks).
func (c *Client) PostJobEvent(ctx context.Context, plan PlanRef, ev JobEvent) error {
	call := fmt.Sprintf("post %s event for job %s of plan %s", ev.Name, ev.JobID, plan.PlanID)
	u, err := planURL(plan, "events")
	if err != nil {
		return fmt.Errorf("ado: %s: %w", call, err)
	}
	auth, err := planAuth(plan)
	if err != nil {
		return fmt.Errorf("ado: %s: %w", call, err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("ado: %s: encode: %w", call, err)
	}
	_, err = c.do(ctx, request{
		op: "PostJobEvent", call: call, method: http.MethodPost, url: u, auth: auth,
		body: body, contentType: "application/json",
	}, nil)
	return err
}

// maxLogIDs bounds the remembered log ids of a long-running controller.
const maxLogIDs = 10000

// taskLog is the TaskLog the logs endpoints take and return.
type taskLog struct {
	ID        int    `json:"id"`
	Path      string `json:"path"`
	LineCount int64  `json:"lineCount,omitempty"`
}

// AppendLog appends lines to the check's log. Of the two ways the spec offers, it uses the task
// log (Logs_Create: POST .../plans/{planId}/logs, then Logs_Append Log Content: POST
// .../logs/{logId} with the lines as an octet stream; httpExamples/logs) rather than the timeline
// record feed (httpExamples/feed): the feed is the live console, kept only while the step runs,
// and is not in the 7.1 spec's paths, while a task log is stored with the run. The log is
// created once per (plan, task instance) with the path logs\{taskInstanceId}, as in the
// CreateLog example, and its id is remembered so later calls append to it.
func (c *Client) AppendLog(ctx context.Context, plan PlanRef, lines []string) error {
	call := fmt.Sprintf("append %d log lines for task %s of plan %s", len(lines), plan.TaskInstanceID, plan.PlanID)
	if len(lines) == 0 {
		return nil
	}
	if plan.TaskInstanceID == "" {
		return fmt.Errorf("ado: %s: plan TaskInstanceID is empty", call)
	}
	auth, err := planAuth(plan)
	if err != nil {
		return fmt.Errorf("ado: %s: %w", call, err)
	}
	key := plan.PlanURL + "|" + plan.HubName + "|" + plan.PlanID + "|" + plan.TaskInstanceID
	c.mu.Lock()
	logID, ok := c.logIDs[key]
	c.mu.Unlock()
	if !ok {
		if logID, err = c.createLog(ctx, plan, auth); err != nil {
			return err
		}
		c.mu.Lock()
		if len(c.logIDs) >= maxLogIDs {
			clear(c.logIDs) // checks end; a forgotten log costs one extra log, not a failure
		}
		c.logIDs[key] = logID
		c.mu.Unlock()
	}
	u, err := planURL(plan, "logs/"+strconv.Itoa(logID))
	if err != nil {
		return fmt.Errorf("ado: %s: %w", call, err)
	}
	_, err = c.do(ctx, request{
		op: "AppendLog", call: call, method: http.MethodPost, url: u, auth: auth,
		body: []byte(strings.Join(lines, "\n") + "\n"), contentType: "application/octet-stream",
	}, nil)
	if errors.Is(err, ErrNotFound) {
		// The log is gone (or was never ours): forget it so the next call creates a new one.
		c.mu.Lock()
		delete(c.logIDs, key)
		c.mu.Unlock()
	}
	return err
}

func (c *Client) createLog(ctx context.Context, plan PlanRef, auth string) (int, error) {
	call := fmt.Sprintf("create log for task %s of plan %s", plan.TaskInstanceID, plan.PlanID)
	u, err := planURL(plan, "logs")
	if err != nil {
		return 0, fmt.Errorf("ado: %s: %w", call, err)
	}
	body, _ := json.Marshal(taskLog{Path: `logs\` + plan.TaskInstanceID})
	var out taskLog
	if _, err := c.do(ctx, request{
		op: "CreateLog", call: call, method: http.MethodPost, url: u, auth: auth,
		body: body, contentType: "application/json",
	}, &out); err != nil {
		return 0, err
	}
	if out.ID == 0 {
		return 0, fmt.Errorf("ado: %s: response has no log id", call)
	}
	return out.ID, nil
}
