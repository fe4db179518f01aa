package adosim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

type job struct {
	id            int64
	poolID        int
	queueTime     time.Time
	assignTime    time.Time
	receiveTime   time.Time
	finishTime    time.Time
	lockedUntil   time.Time
	result        string // "" while unfinished
	statusMessage string
	demands       []string
	parsed        []demand
	planID        string
	planType      string
	scopeID       string
	jobID         string
	jobName       string
	orchestration string
	duration      time.Duration

	agentID   int         // reserved agent, 0 while queued
	lockToken string      // of the current assignment
	messageID int64       // of the current assignment's message
	delivered bool        // the current assignment's message reached the agent
	starts    int         // deliveries over all assignments
	ranBy     []int       // agent ids the job was delivered to
	envID     int         // the environment a deployment job targets; 0 if none
	checks    []*checkRun // its pool's and environment's checks, as configured when it was queued
}

func (j *job) finished() bool { return j.result != "" }

// waitingForCheck: the job is held by a check; as far as the pool goes it does not exist yet.
func (j *job) waitingForCheck() bool {
	for _, r := range j.checks {
		if r.waiting {
			return true
		}
	}
	return false
}

// JobSpec describes a job to queue.
type JobSpec struct {
	Demands  []string      // ADO demand strings
	Duration time.Duration // how long a simulated agent works on it
	PlanID   string        // default: a new id
	JobID    string        // default: a new id
	JobName  string        // default "Job"
	PlanType string        // default "Build"
	// Project is the project (name or id) the plan belongs to. Default: the org's project.
	Project string
	// Environment is the id of the environment (in Project) a deployment job targets; 0 for none.
	// The job waits for the environment's check (SetEnvironmentCheck) as for its pool's.
	Environment int
}

// QueueJob queues a job request in the named pool and returns its request id. Like ADO it fails
// the job at once (result "failed") when no agent in the pool, online or not, satisfies its
// demands; the request id is returned all the same. In a pool with a check (SetPoolCheck) the
// job waits for the check first (JobWaitingForChecks); the simulator gives it its request id at
// once, though ADO creates the request only when the check passes.
func (o *Org) QueueJob(poolName string, spec JobSpec) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweepLocked()
	p := o.poolByNameLocked(poolName)
	if p == nil {
		return 0, errPoolNotFound(poolName)
	}
	parsed, err := parseDemands(spec.Demands)
	if err != nil {
		return 0, errBadRequest("%v", err)
	}
	project := spec.Project
	if project == "" {
		project = o.project
	}
	if spec.Environment != 0 {
		if _, err := o.envLocked(project, spec.Environment); err != nil {
			return 0, err
		}
	}
	now := o.clock.Now()
	o.nextRequestID++
	j := &job{
		id: o.nextRequestID, poolID: p.id, queueTime: now,
		demands: append([]string(nil), spec.Demands...), parsed: parsed,
		planID: spec.PlanID, jobID: spec.JobID, jobName: spec.JobName, planType: spec.PlanType,
		scopeID: o.projectIDLocked(project), duration: spec.Duration, envID: spec.Environment,
	}
	if j.planID == "" {
		j.planID = o.uuidLocked()
	}
	if j.jobID == "" {
		j.jobID = o.uuidLocked()
	}
	if j.jobName == "" {
		j.jobName = "Job"
	}
	if j.planType == "" {
		j.planType = "Build"
	}
	j.orchestration = j.planID + "." + strings.ToLower(j.jobName)
	o.ensurePlanLocked(PlanSpec{ProjectID: j.scopeID, HubName: strings.ToLower(j.planType), PlanID: j.planID, JobID: j.jobID})
	o.jobs[j.id] = j
	if o.holdForCheckLocked(j) {
		o.notifyLocked()
		return j.id, nil
	}
	o.queue = append(o.queue, j.id)
	o.failUnmatchableLocked(p.id)
	o.assignLocked()
	o.notifyLocked()
	return j.id, nil
}

func (o *Org) jobLocked(poolID int, id int64) (*job, error) {
	j, ok := o.jobs[id]
	if !ok || j.poolID != poolID || j.waitingForCheck() {
		return nil, errJobNotFound(id)
	}
	return j, nil
}

// anyAgentMatchesLocked: ADO's "is there any agent at all" test, whatever its status.
func (o *Org) anyAgentMatchesLocked(j *job) bool {
	for _, a := range o.agents {
		if a.poolID == j.poolID && satisfiesAll(j.parsed, a.capabilities()) {
			return true
		}
	}
	return false
}

// failUnmatchableLocked fails every queued job of the pool that no agent can ever satisfy.
func (o *Org) failUnmatchableLocked(poolID int) {
	p := o.pools[poolID]
	for _, id := range append([]int64(nil), o.queue...) {
		j := o.jobs[id]
		if j.poolID != poolID || o.anyAgentMatchesLocked(j) {
			continue
		}
		msg := fmt.Sprintf("No agent found in pool %s which satisfies the specified demands: %s", p.name, strings.Join(j.demands, ", "))
		if len(j.demands) == 0 {
			msg = fmt.Sprintf("No agent found in pool %s.", p.name)
		}
		o.removeFromQueueLocked(j.id)
		j.result = "failed"
		j.statusMessage = msg
		j.finishTime = o.clock.Now()
		o.log.Info("job failed at once", "request", j.id, "pool", p.name, "demands", j.demands)
	}
}

func (o *Org) removeFromQueueLocked(id int64) {
	for i, q := range o.queue {
		if q == id {
			o.queue = append(o.queue[:i], o.queue[i+1:]...)
			return
		}
	}
}

// assignLocked applies ADO's rule: each queued job, oldest first, goes to an idle, enabled,
// online agent of its pool whose capabilities satisfy its demands (the one idle longest).
func (o *Org) assignLocked() {
	if len(o.queue) == 0 {
		return
	}
	idle := map[int][]*agent{}
	for _, a := range o.agents {
		if a.enabled && a.online() && a.assigned == 0 {
			idle[a.poolID] = append(idle[a.poolID], a)
		}
	}
	for _, as := range idle {
		sort.Slice(as, func(i, k int) bool {
			if !as[i].idleSince.Equal(as[k].idleSince) {
				return as[i].idleSince.Before(as[k].idleSince)
			}
			return as[i].id < as[k].id
		})
	}
	now := o.clock.Now()
	var still []int64
	for _, id := range o.queue {
		j := o.jobs[id]
		var pick *agent
		for _, a := range idle[j.poolID] {
			if a.assigned == 0 && satisfiesAll(j.parsed, a.capabilities()) {
				pick = a
				break
			}
		}
		if pick == nil {
			still = append(still, id)
			continue
		}
		o.assignToLocked(j, pick, now)
	}
	o.queue = still
}

func (o *Org) assignToLocked(j *job, a *agent, now time.Time) {
	j.agentID = a.id
	j.assignTime = now
	j.lockedUntil = now.Add(o.lockDuration)
	j.lockToken = o.uuidLocked()
	j.delivered = false
	a.assigned = j.id
	s := o.sessions[a.sessionID]
	o.nextMessageID++
	j.messageID = o.nextMessageID
	s.messages = append(s.messages, &message{id: o.nextMessageID, requestID: j.id})
	o.log.Debug("job assigned", "request", j.id, "agent", a.name)
}

// requeueAssignedLocked puts an agent's job back in the queue (the agent died or went away). A
// job whose message was delivered keeps its start count, so a second run is visible.
func (o *Org) requeueAssignedLocked(a *agent, why string) {
	if a.assigned == 0 {
		return
	}
	j := o.jobs[a.assigned]
	a.assigned = 0
	if j == nil || j.finished() {
		return
	}
	o.log.Info("job requeued", "request", j.id, "agent", a.name, "reason", why, "delivered", j.delivered)
	j.agentID = 0
	j.assignTime, j.receiveTime, j.lockedUntil = time.Time{}, time.Time{}, time.Time{}
	j.lockToken, j.messageID, j.delivered = "", 0, false
	// Back in queue order: the job keeps its original queue time.
	i := sort.Search(len(o.queue), func(i int) bool {
		q := o.jobs[o.queue[i]]
		return q.queueTime.After(j.queueTime) || (q.queueTime.Equal(j.queueTime) && q.id > j.id)
	})
	o.queue = append(o.queue, 0)
	copy(o.queue[i+1:], o.queue[i:])
	o.queue[i] = j.id
}

// finishLocked ends an assigned job with result.
func (o *Org) finishLocked(j *job, result string) {
	now := o.clock.Now()
	j.result = result
	j.finishTime = now
	j.lockedUntil = time.Time{}
	if a := o.agents[j.agentID]; a != nil && a.assigned == j.id {
		a.assigned = 0
		a.lastCompleted = j.id
		a.idleSince = now
		a.jobsRun++
	}
	o.assignLocked()
	o.notifyLocked()
}

// sweepLocked applies the passage of time: sessions not heard from for SessionTimeout are
// dropped and their jobs requeued; jobs whose lock lapsed are requeued.
func (o *Org) sweepLocked() {
	now := o.clock.Now()
	o.sweepChecksLocked(now)
	changed := false
	for _, s := range o.sessions {
		if now.Sub(s.lastSeen) >= o.sessionTimeout {
			if a := o.agents[s.agentID]; a != nil {
				o.log.Info("agent session expired", "agent", a.name)
				o.dropSessionLocked(a, false)
				o.requeueAssignedLocked(a, "session expired")
			} else {
				delete(o.sessions, s.id)
			}
			changed = true
		}
	}
	for _, a := range o.agents {
		if a.assigned == 0 {
			continue
		}
		if j := o.jobs[a.assigned]; j != nil && !j.lockedUntil.IsZero() && !now.Before(j.lockedUntil) {
			o.requeueAssignedLocked(a, "lock expired")
			changed = true
		}
	}
	if changed {
		o.assignLocked()
		o.notifyLocked()
	}
}

// Sweep applies session and lock expiry now. The server sweeps on every call; tests driving the
// Org directly under a virtual clock call it after advancing time.
func (o *Org) Sweep() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweepLocked()
}
