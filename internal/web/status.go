package web

import (
	"context"
	"slices"
	"time"
)

// Bounds of the lists the dashboard and /api/status show, newest first.
const (
	MaxDecisions = 50
	MaxAgents    = 100
	MaxFailures  = 50
	MaxChecks    = 100
)

// StatusSource supplies what the dashboard shows. internal/web/fleet implements it over the
// controller and the store; web declares it here so that it imports nothing else of adofleet.
type StatusSource interface {
	Status(ctx context.Context) (Status, error)
}

// Status is a snapshot of every pool, its agents and the latest decisions, failures and check
// requests. The JSON names are the wire contract of /api/status and /api/events that
// static/app.js reads; no field ever holds a secret.
type Status struct {
	GeneratedAt time.Time `json:"generated_at,omitzero"`
	// SampledAt is the time of the newest history sample; the page reloads its charts when it
	// moves. Zero when no HistorySource is configured.
	SampledAt time.Time `json:"sampled_at,omitzero"`
	// Currency labels every cost (e.g. "USD"); empty when no pool has a price.
	Currency  string       `json:"currency"`
	Pools     []PoolStatus `json:"pools"`
	Decisions []Decision   `json:"decisions"`
	Agents    []Agent      `json:"agents"`
	Failures  []Failure    `json:"failures"`
	Checks    []Check      `json:"checks"`
}

// PoolStatus is one pool's policy bounds, demand, agents and cost.
type PoolStatus struct {
	Name          string      `json:"name"`
	Provider      string      `json:"provider"`
	Min           int         `json:"min"`
	Max           int         `json:"max"`
	Standby       int         `json:"standby"`
	QueuedJobs    int         `json:"queued_jobs"`
	RunningJobs   int         `json:"running_jobs"`
	Agents        AgentCounts `json:"agents"`
	LastReconcile time.Time   `json:"last_reconcile,omitzero"`
	LastError     string      `json:"last_error"`
	Cost          Cost        `json:"cost"`
}

// Cost estimates what a pool's agents cost: agent-hours times the configured price. Every field
// is zero when the pool has no price.
type Cost struct {
	PerAgentHour float64 `json:"per_agent_hour"`
	// AgentHours24h is the integral of the live agents over the last 24 hours this process saw.
	AgentHours24h float64 `json:"agent_hours_24h"`
	// Last24h is AgentHours24h times the price.
	Last24h float64 `json:"last_24h"`
	// PerDay is what a day at the current number of live agents would cost.
	PerDay float64 `json:"per_day"`
}

// AgentCounts counts a pool's agents by state.
type AgentCounts struct {
	Starting int `json:"starting"`
	Idle     int `json:"idle"`
	Busy     int `json:"busy"`
	Draining int `json:"draining"`
	Offline  int `json:"offline"`
}

// Decision is one action the controller took or planned, with its reason.
type Decision struct {
	Time   time.Time `json:"time"`
	Pool   string    `json:"pool"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Reason string    `json:"reason"`
}

// Agent is the life of one agent the controller launched: launched, registered, its job, gone.
// Durations are in seconds; zero times and durations mean "not yet".
type Agent struct {
	Name       string    `json:"name"`
	Pool       string    `json:"pool"`
	State      string    `json:"state"`
	InstanceID string    `json:"instance_id"`
	Launched   time.Time `json:"launched,omitzero"`
	Registered time.Time `json:"registered,omitzero"`
	// Job is the ADO job request id the agent ran, when the controller recorded it.
	Job  int64     `json:"job"`
	Gone time.Time `json:"gone,omitzero"`
	// StartupSeconds is launched to registered; LifetimeSeconds is launched to gone (or to now
	// for an agent still alive).
	StartupSeconds  float64 `json:"startup_seconds"`
	LifetimeSeconds float64 `json:"lifetime_seconds"`
	Reason          string  `json:"reason"`
}

// Failure is something that went wrong: a launch the provider refused, an agent that never
// started, a reconcile cycle that failed.
type Failure struct {
	Time    time.Time `json:"time"`
	Pool    string    `json:"pool"`
	Kind    string    `json:"kind"`
	Target  string    `json:"target"`
	Message string    `json:"message"`
}

// Check is one Approvals-and-Checks request waiting for an agent (its callback not sent yet).
type Check struct {
	Pool           string    `json:"pool"`
	PlanID         string    `json:"plan_id"`
	JobID          string    `json:"job_id"`
	Received       time.Time `json:"received"`
	WaitingSeconds float64   `json:"waiting_seconds"`
}

// normalize returns a copy of s as the page and the API show it: non-nil slices (JSON arrays,
// never null), every list newest first and bounded. Pools keep the source's order.
func normalize(s Status) Status {
	out := s
	out.Pools = nonNil(slices.Clone(s.Pools))
	out.Decisions = newestFirst(s.Decisions, MaxDecisions, func(d Decision) time.Time { return d.Time })
	out.Agents = newestFirst(s.Agents, MaxAgents, func(a Agent) time.Time { return a.Launched })
	out.Failures = newestFirst(s.Failures, MaxFailures, func(f Failure) time.Time { return f.Time })
	// Checks are shown oldest first: the longest wait is the one to look at.
	out.Checks = nonNil(slices.Clone(s.Checks))
	slices.SortStableFunc(out.Checks, func(a, b Check) int { return a.Received.Compare(b.Received) })
	if len(out.Checks) > MaxChecks {
		out.Checks = out.Checks[:MaxChecks]
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func newestFirst[T any](in []T, limit int, at func(T) time.Time) []T {
	out := nonNil(slices.Clone(in))
	slices.SortStableFunc(out, func(a, b T) int { return at(b).Compare(at(a)) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
