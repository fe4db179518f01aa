package adosim

import (
	"sort"
	"time"
)

// Read-back for tests and the demo: what happened to every job and agent.

// JobState is where a job request is in its life.
type JobState string

const (
	JobQueued   JobState = "queued"   // waiting for an agent
	JobAssigned JobState = "assigned" // reserved by an agent that has not received it yet
	JobRunning  JobState = "running"  // delivered to its agent
	JobFinished JobState = "finished" // has a result
	// JobWaitingForChecks: a check (the pool's or the environment's) has not passed yet; no job request exists in ADO.
	JobWaitingForChecks JobState = "waitingForChecks"
)

// JobInfo is a job request as the simulator knows it.
type JobInfo struct {
	RequestID     int64
	Pool          string
	PoolID        int
	State         JobState
	Demands       []string
	PlanID        string
	JobID         string
	JobName       string
	Duration      time.Duration
	QueueTime     time.Time
	AssignTime    time.Time // zero until assigned
	ReceiveTime   time.Time // zero until delivered
	FinishTime    time.Time // zero until finished
	Result        string    // "" until finished
	StatusMessage string
	AgentID       int    // the reserved (or finishing) agent; 0 while queued
	AgentName     string // name of AgentID, if it still exists
	// Starts counts deliveries to an agent over all assignments: more than one means the job ran
	// twice (its first agent died or was removed while running it).
	Starts int
	RanBy  []int // agent ids it was delivered to, in order
	// CheckPlanID is the plan the job's first check ran in (its pool's if the pool had one, else its
	// environment's; "" if none); CheckCalls counts the calls made to that check's URL, retries
	// included. Checks lists every check of the job.
	CheckPlanID string
	CheckCalls  int
	Checks      []CheckInfo
	// Environment is the environment id the job targets (0 if none).
	Environment int
}

func (o *Org) jobInfoLocked(j *job) JobInfo {
	info := JobInfo{
		RequestID: j.id, PoolID: j.poolID, Demands: append([]string(nil), j.demands...),
		PlanID: j.planID, JobID: j.jobID, JobName: j.jobName, Duration: j.duration,
		QueueTime: j.queueTime, AssignTime: j.assignTime, ReceiveTime: j.receiveTime, FinishTime: j.finishTime,
		Result: j.result, StatusMessage: j.statusMessage, AgentID: j.agentID, Starts: j.starts,
		RanBy: append([]int(nil), j.ranBy...),
	}
	if p := o.pools[j.poolID]; p != nil {
		info.Pool = p.name
	}
	if a := o.agents[j.agentID]; a != nil {
		info.AgentName = a.name
	}
	info.Environment = j.envID
	for _, r := range j.checks {
		info.Checks = append(info.Checks, r.info())
	}
	if len(j.checks) > 0 {
		info.CheckPlanID, info.CheckCalls = j.checks[0].plan.PlanID, j.checks[0].calls
	}
	switch {
	case j.finished():
		info.State = JobFinished
	case j.waitingForCheck():
		info.State = JobWaitingForChecks
	case j.agentID == 0:
		info.State = JobQueued
	case j.delivered:
		info.State = JobRunning
	default:
		info.State = JobAssigned
	}
	return info
}

// Jobs returns every job request, oldest first.
func (o *Org) Jobs() []JobInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweepLocked()
	out := make([]JobInfo, 0, len(o.jobs))
	for _, j := range o.jobs {
		out = append(out, o.jobInfoLocked(j))
	}
	sort.Slice(out, func(i, k int) bool { return out[i].RequestID < out[k].RequestID })
	return out
}

// Job returns one job request.
func (o *Org) Job(requestID int64) (JobInfo, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweepLocked()
	j, ok := o.jobs[requestID]
	if !ok {
		return JobInfo{}, false
	}
	return o.jobInfoLocked(j), true
}

// AgentState is an agent's state as the demo shows it.
type AgentState string

const (
	AgentOffline AgentState = "offline"
	AgentIdle    AgentState = "idle" // online, no assigned request
	AgentBusy    AgentState = "busy" // has an assigned request (online or not)
)

// AgentInfo is an agent as the simulator knows it.
type AgentInfo struct {
	ID                 int
	PoolID             int
	Pool               string
	Name               string
	Version            string
	Enabled            bool
	Online             bool
	State              AgentState
	AssignedRequest    int64
	LastCompleted      int64
	JobsRun            int
	SystemCapabilities map[string]string
	UserCapabilities   map[string]string
	CreatedOn          time.Time
	StatusChangedOn    time.Time
}

func (o *Org) agentInfoLocked(a *agent) AgentInfo {
	info := AgentInfo{
		ID: a.id, PoolID: a.poolID, Name: a.name, Version: a.version, Enabled: a.enabled, Online: a.online(),
		AssignedRequest: a.assigned, LastCompleted: a.lastCompleted, JobsRun: a.jobsRun,
		SystemCapabilities: copyMap(a.system), UserCapabilities: copyMap(a.user),
		CreatedOn: a.createdOn, StatusChangedOn: a.statusChangedOn,
	}
	if p := o.pools[a.poolID]; p != nil {
		info.Pool = p.name
	}
	switch {
	case a.assigned != 0:
		info.State = AgentBusy
	case a.online():
		info.State = AgentIdle
	default:
		info.State = AgentOffline
	}
	return info
}

// Agents returns the agents of the named pool ("" for every pool), by id.
func (o *Org) Agents(pool string) []AgentInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sweepLocked()
	var out []AgentInfo
	for _, a := range o.agents {
		info := o.agentInfoLocked(a)
		if pool == "" || info.Pool == pool {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out
}

// AgentsByState counts the named pool's agents by state.
func (o *Org) AgentsByState(pool string) map[AgentState]int {
	out := map[AgentState]int{}
	for _, a := range o.Agents(pool) {
		out[a.State]++
	}
	return out
}

// PoolInfo is a pool as the simulator knows it.
type PoolInfo struct {
	ID            int
	Name          string
	PoolType      string
	EnvironmentID int // for a deployment pool
}

// Pools returns every pool by id.
func (o *Org) Pools() []PoolInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]PoolInfo, 0, len(o.pools))
	for _, p := range o.pools {
		out = append(out, PoolInfo{ID: p.id, Name: p.name, PoolType: p.poolType, EnvironmentID: p.envID})
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out
}

// VMResourceInfo is an environment's VM resource.
type VMResourceInfo struct {
	ID      int
	Name    string
	Tags    []string
	AgentID int // 0 when its agent was deleted
}

// VMResources returns an environment's VM resources by id.
func (o *Org) VMResources(project string, envID int) ([]VMResourceInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, err := o.envLocked(project, envID)
	if err != nil {
		return nil, err
	}
	var out []VMResourceInfo
	for _, r := range e.sortedResources() {
		out = append(out, VMResourceInfo{ID: r.id, Name: r.name, Tags: append([]string(nil), r.tags...), AgentID: r.agentID})
	}
	return out, nil
}

// EnvironmentInfo is an environment as the simulator knows it.
type EnvironmentInfo struct {
	ID        int
	Name      string
	Project   string
	ProjectID string
	// PoolID is the hidden deployment pool holding the VM resources' agents.
	PoolID int
	// VMGroupID is the id of the environment's virtualmachinegroups resource (the 6.0 form).
	VMGroupID int
}

// Environment returns one environment of a project (name or id).
func (o *Org) Environment(project string, envID int) (EnvironmentInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, err := o.envLocked(project, envID)
	if err != nil {
		return EnvironmentInfo{}, err
	}
	return EnvironmentInfo{ID: e.id, Name: e.name, Project: e.project, ProjectID: e.projectID, PoolID: e.poolID, VMGroupID: e.groupID}, nil
}
