package scaler

import "time"

// Policy is one pool's scaling policy.
type Policy struct {
	Min     int // instances kept running even with no work
	Max     int // licence cap on parallel jobs: live instances + launches never exceed it
	Standby int // idle, ready agents kept on top of the demand
	// IdleTimeout: an idle agent beyond Min/Standby is drained after this long idle.
	IdleTimeout time.Duration
	// RegistrationTimeout: an instance whose agent has not come online by then is terminated.
	RegistrationTimeout time.Duration
	// OneJobPerAgent: agents run one job and exit (--once); an agent that finished is not reused.
	OneJobPerAgent bool
	// Capabilities the pool's agents offer; a queued job is ours only if these satisfy its demands.
	Capabilities map[string]string
	// MaxLaunchPerCycle bounds one plan's launches (0 = no bound beyond Max).
	MaxLaunchPerCycle int
}

// Job is an unfinished job request in the pool.
type Job struct {
	ID        int64
	QueueTime time.Time
	Demands   []string // ADO demand strings
	// AgentID is the agent the job is assigned to (0 while queued).
	AgentID int
}

// Agent is an agent registered in the pool.
type Agent struct {
	ID      int
	Name    string
	Online  bool
	Enabled bool
	// Busy: the agent has an assigned request.
	Busy bool
	// Ours: the controller created this agent (it has a store record).
	Ours bool
	// Placeholder: the offline agent kept so ADO does not fail jobs at scale to zero. Never removed.
	Placeholder bool
	// IdleSince: when the agent last became idle (its last job finished, or it came online).
	IdleSince time.Time
	// Finished: a one-job agent that has completed its job (it will not take another).
	Finished  bool
	CreatedOn time.Time
}

// Instance is a provider instance tagged for this pool and still alive (pending or running).
type Instance struct {
	ID         string
	AgentName  string
	LaunchedAt time.Time
}

// Snapshot is everything the decision needs about one pool at one moment.
type Snapshot struct {
	Pool      string
	Jobs      []Job      // unfinished job requests (queued or assigned)
	Agents    []Agent    // agents registered in the pool
	Instances []Instance // live instances tagged for the pool
	// Launching counts launches written to the store whose instances are not yet listed by the
	// provider: they count against Max exactly like live instances.
	Launching int
	// Draining names agents already being drained (disabled by us), so they are not counted as
	// capacity and not planned twice.
	Draining map[string]bool
	// Demands counts pending check requests (Approvals and Checks) whose jobs ADO will queue only
	// once an agent is there: each counts like a matching queued job. Negative counts as 0.
	Demands int
	// Reserved names agents that released a check and wait for its job to be queued: they are
	// supply for that job (counted as ready) and never drained while reserved.
	Reserved map[string]bool
}

// Action names, as recorded in decisions.
const (
	ActionLaunch    = "launch"
	ActionDrain     = "drain"
	ActionDelete    = "delete-agent"
	ActionTerminate = "terminate"
)

// Step is one planned action on one target, with the reason a human reads.
type Step struct {
	Action     string
	Target     string // agent name or instance id; "" for launches
	AgentID    int
	InstanceID string
	Reason     string
}

// Actions is the decision for one cycle, as returned by Plan.
type Actions struct {
	Launch       int    // how many agents to start
	LaunchReason string // why (queued jobs, standby, min)
	Drain        []Step // idle agents to drain (disable, re-check, terminate, delete)
	DeleteAgents []Step // stale agents to delete from ADO (offline, ours, no instance)
	Terminate    []Step // orphan instances to terminate (no agent after the registration timeout)
}

// Empty reports whether the actions change nothing.
func (p Actions) Empty() bool {
	return p.Launch == 0 && len(p.Drain) == 0 && len(p.DeleteAgents) == 0 && len(p.Terminate) == 0
}
