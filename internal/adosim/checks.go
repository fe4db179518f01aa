package adosim

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// A pool's (or an environment's, see envchecks.go) Approvals-and-Checks "Invoke REST API" check in callback (completion event) mode, as
// ADO runs it: a job for the pool is held "waiting for checks" (no job request exists yet, so the
// job-requests list does not show it) while the check URL is called with the plan's values; a
// TaskCompleted event on the check's plan then releases the job into the pool queue (succeeded)
// or fails it, and a check not completed within its timeout fails the job.
//
// Deliberate choices: the check runs in its own plan (hub "checks") as ADO's checks do, distinct
// from the job's pipeline plan; a call that still fails after its attempts fails the job at once
// (ADO evaluates the check as failed; the simulator does no periodic re-evaluation); timeouts are
// noticed on the next server call or read-back (the Org's clock, swept like session expiry).

// CheckSpec configures a pool's "Invoke REST API" check.
type CheckSpec struct {
	// URL is called with POST for every job queued to the pool.
	URL string
	// Username and Password are the Generic service connection's basic credentials.
	Username string
	Password string
	// SharedSecret, if set, is sent in SecretHeader (required with it).
	SharedSecret string
	SecretHeader string
	// Timeout is how long the job waits for the TaskCompleted event (Org clock). Default 30m.
	Timeout time.Duration
	// PlanURL is what the call sends as PlanUrl ($(system.CollectionUri)). Default: the URL of
	// the first Server started for the Org, with a trailing slash.
	PlanURL string
	// Attempts bounds the calls made for one job when they fail (transport error or non-2xx
	// answer). Default 3.
	Attempts int
	// RetryDelay is the wall-clock pause between attempts. Default 100ms.
	RetryDelay time.Duration
	// CallTimeout bounds one call (ADO waits a few seconds for the answer). Default 10s.
	CallTimeout time.Duration
	HTTPClient  *http.Client
}

// Defaults for CheckSpec.
const (
	DefaultCheckTimeout     = 30 * time.Minute
	DefaultCheckAttempts    = 3
	DefaultCheckRetryDelay  = 100 * time.Millisecond
	DefaultCheckCallTimeout = 10 * time.Second
)

// The status messages of a job failed by its check.
const (
	CheckTimedOutMessage = "check timed out"
	checkFailedMessage   = "check failed"
)

// checkRun is one check of a job: its pool's or its environment's.
type checkRun struct {
	resource string // CheckOnPool or CheckOnEnvironment
	spec     CheckSpec
	plan     PlanSpec
	deadline time.Time
	waiting  bool // until the check passes, fails or times out
	passed   bool
	calls    int // HTTP attempts made
	lastErr  string
}

// SetPoolCheck configures (replaces) the named pool's check; jobs queued from then on wait for it.
func (o *Org) SetPoolCheck(poolName string, spec CheckSpec) error {
	spec, err := normalizeCheckSpec(spec)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.poolByNameLocked(poolName)
	if p == nil {
		return errPoolNotFound(poolName)
	}
	o.poolChecks[p.id] = &spec
	return nil
}

// normalizeCheckSpec validates spec and fills in the defaults.
func normalizeCheckSpec(spec CheckSpec) (CheckSpec, error) {
	if spec.URL == "" {
		return spec, errBadRequest("check: URL is required")
	}
	if (spec.Username == "") != (spec.Password == "") {
		return spec, errBadRequest("check: Username and Password go together")
	}
	if spec.SharedSecret != "" && spec.SecretHeader == "" {
		return spec, errBadRequest("check: SharedSecret needs SecretHeader")
	}
	if spec.Timeout <= 0 {
		spec.Timeout = DefaultCheckTimeout
	}
	if spec.Attempts <= 0 {
		spec.Attempts = DefaultCheckAttempts
	}
	if spec.RetryDelay <= 0 {
		spec.RetryDelay = DefaultCheckRetryDelay
	}
	if spec.CallTimeout <= 0 {
		spec.CallTimeout = DefaultCheckCallTimeout
	}
	if spec.HTTPClient == nil {
		spec.HTTPClient = &http.Client{}
	}
	return spec, nil
}

// ClearPoolCheck removes the named pool's check; jobs already waiting keep waiting for theirs.
func (o *Org) ClearPoolCheck(poolName string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p := o.poolByNameLocked(poolName); p != nil {
		delete(o.poolChecks, p.id)
	}
}

// setCollectionURL records the org URL a Server listens on, for PlanUrl; the first one wins.
func (o *Org) setCollectionURL(u string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.collectionURL == "" {
		o.collectionURL = strings.TrimSuffix(u, "/") + "/"
	}
}

// holdForCheckLocked starts j's checks, its pool's and its environment's (ADO evaluates every
// check of the resources a job uses, all in parallel, and runs the job when all have passed), and
// reports whether there were any; the calls are made after the lock is released, by goroutines.
func (o *Org) holdForCheckLocked(j *job) bool {
	var specs []*CheckSpec
	var kinds []string
	if spec, ok := o.poolChecks[j.poolID]; ok {
		specs, kinds = append(specs, spec), append(kinds, CheckOnPool)
	}
	if spec, ok := o.envChecks[j.envID]; ok && j.envID != 0 {
		specs, kinds = append(specs, spec), append(kinds, CheckOnEnvironment)
	}
	if len(specs) == 0 {
		return false
	}
	planURL := o.collectionURL
	for i, spec := range specs {
		plan := o.ensurePlanLocked(PlanSpec{ProjectID: j.scopeID, HubName: "checks"})
		plan.checkJob = j.id
		run := &checkRun{resource: kinds[i], spec: *spec, plan: plan.spec, deadline: o.clock.Now().Add(spec.Timeout), waiting: true}
		j.checks = append(j.checks, run)
		url := spec.PlanURL
		if url == "" {
			url = planURL
		}
		go o.invokeCheck(j.id, run.spec, run.plan, url)
	}
	o.checking[j.id] = j
	return true
}

// runLocked finds the check of j that runs in the plan planID.
func runLocked(j *job, planID string) *checkRun {
	for _, r := range j.checks {
		if strings.EqualFold(r.plan.PlanID, planID) {
			return r
		}
	}
	return nil
}

// invokeCheck calls the check URL, retrying a failed call; when every attempt fails the job fails.
func (o *Org) invokeCheck(requestID int64, spec CheckSpec, plan PlanSpec, planURL string) {
	var last string
	for attempt := 1; attempt <= spec.Attempts; attempt++ {
		if attempt > 1 {
			time.Sleep(spec.RetryDelay)
		}
		if !o.stillWaiting(requestID, plan.PlanID) {
			return
		}
		err := callCheck(spec, plan, planURL)
		o.mu.Lock()
		if j := o.jobs[requestID]; j != nil { // counted even if the check was decided meanwhile
			if r := runLocked(j, plan.PlanID); r != nil {
				r.calls++
				if err != nil {
					r.lastErr = err.Error()
				}
			}
		}
		o.mu.Unlock()
		if err == nil {
			return
		}
		last = err.Error()
		o.log.Info("check call failed", "request", requestID, "attempt", attempt, "err", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if j := o.checking[requestID]; j != nil {
		o.failCheckLocked(j, fmt.Sprintf("%s: the call to the check URL failed %d times: %s", checkFailedMessage, spec.Attempts, last))
	}
}

// stillWaiting: the job still waits for its checks, this one included.
func (o *Org) stillWaiting(requestID int64, planID string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.checking[requestID]
	if j == nil {
		return false
	}
	r := runLocked(j, planID)
	return r != nil && r.waiting
}

// callCheck makes one call with the headers ADO's check sends by default. The error names the
// status, never a credential or the token.
func callCheck(spec CheckSpec, plan PlanSpec, planURL string) error {
	if planURL == "" {
		return fmt.Errorf("no PlanUrl: start a Server for the Org or set CheckSpec.PlanURL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), spec.CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, spec.URL, strings.NewReader("{}"))
	if err != nil {
		return fmt.Errorf("build check call: %w", err)
	}
	for k, v := range map[string]string{
		"Content-Type": "application/json", "PlanUrl": planURL, "ProjectId": plan.ProjectID, "HubName": plan.HubName,
		"PlanId": plan.PlanID, "JobId": plan.JobID, "TimelineId": plan.TimelineID,
		"TaskInstanceId": plan.TaskInstanceID, "AuthToken": plan.Token,
	} {
		req.Header.Set(k, v)
	}
	if spec.Username != "" {
		req.SetBasicAuth(spec.Username, spec.Password)
	}
	if spec.SharedSecret != "" {
		req.Header.Set(spec.SecretHeader, spec.SharedSecret)
	}
	resp, err := spec.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST check URL: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST check URL: status %d", resp.StatusCode)
	}
	return nil
}

// checkEventLocked applies an event posted to plan p: the first TaskCompleted for the check's task
// instance decides the check; later ones are only counted (PlanInfo.TaskCompleted).
func (o *Org) checkEventLocked(p *plan, ev PlanEvent) {
	if !strings.EqualFold(ev.Name, "TaskCompleted") || !strings.EqualFold(ev.TaskID, p.spec.TaskInstanceID) {
		return
	}
	p.completions++
	j := o.checking[p.checkJob]
	if p.checkJob == 0 || j == nil {
		return // not a check's plan, or the job's checks were decided before (double or late callback)
	}
	run := runLocked(j, p.spec.PlanID)
	if run == nil || !run.waiting {
		return // this check passed before: a double callback
	}
	switch strings.ToLower(ev.Result) {
	case "succeeded", "succeededwithissues":
		run.waiting, run.passed = false, true
		for _, r := range j.checks {
			if !r.passed {
				return // the job waits for its other checks
			}
		}
		o.passCheckLocked(j)
	default:
		reason := fmt.Sprintf("%s: result %s", checkFailedMessage, ev.Result)
		if line := lastLogLine(p); line != "" {
			reason += ": " + line // the check's own explanation, as ADO shows its log
		}
		o.failCheckLocked(j, reason)
	}
}

func lastLogLine(p *plan) string {
	for i := len(p.logs) - 1; i >= 0; i-- {
		if l := p.logs[i].lines; len(l) > 0 {
			return l[len(l)-1]
		}
	}
	return ""
}

// passCheckLocked queues the job in its pool now, as if it had just been queued: all its checks passed.
func (o *Org) passCheckLocked(j *job) {
	delete(o.checking, j.id)
	j.queueTime = o.clock.Now()
	o.queue = append(o.queue, j.id)
	o.failUnmatchableLocked(j.poolID)
	o.assignLocked()
	o.notifyLocked()
}

// failCheckLocked fails the job: one of its checks failed; the others stop waiting.
func (o *Org) failCheckLocked(j *job, reason string) {
	delete(o.checking, j.id)
	for _, r := range j.checks {
		r.waiting = false
	}
	j.result = "failed"
	j.statusMessage = reason
	j.finishTime = o.clock.Now()
	o.log.Info("job failed by its check", "request", j.id, "reason", reason)
	o.notifyLocked()
}

// sweepChecksLocked fails the jobs whose check was not completed in time.
func (o *Org) sweepChecksLocked(now time.Time) {
	for _, j := range o.checking {
		for _, r := range j.checks {
			if r.waiting && !now.Before(r.deadline) {
				o.failCheckLocked(j, CheckTimedOutMessage)
				break
			}
		}
	}
}
