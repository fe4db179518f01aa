package web

import (
	"context"
	"slices"
	"time"
)

// MaxDecisions is how many decisions the dashboard and /api/status show,
// newest first.
const MaxDecisions = 50

// StatusSource supplies what the dashboard shows. The controller implements
// it; web declares it here so that it imports nothing else of adofleet.
type StatusSource interface {
	Status(ctx context.Context) (Status, error)
}

// Status is a snapshot of every pool and the latest scaling decisions. The
// JSON names are the wire contract of /api/status that static/app.js reads.
type Status struct {
	GeneratedAt time.Time    `json:"generated_at,omitzero"`
	Pools       []PoolStatus `json:"pools"`
	Decisions   []Decision   `json:"decisions"`
}

// PoolStatus is one pool's policy bounds, demand and agents.
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

// normalize returns a copy of s as the page and the API show it: non-nil
// slices (JSON arrays, never null), decisions newest first and at most
// MaxDecisions of them. Pools keep the source's order.
func normalize(s Status) Status {
	out := Status{
		GeneratedAt: s.GeneratedAt,
		Pools:       slices.Clone(s.Pools),
		Decisions:   slices.Clone(s.Decisions),
	}
	if out.Pools == nil {
		out.Pools = []PoolStatus{}
	}
	if out.Decisions == nil {
		out.Decisions = []Decision{}
	}
	slices.SortStableFunc(out.Decisions, func(a, b Decision) int {
		return b.Time.Compare(a.Time)
	})
	if len(out.Decisions) > MaxDecisions {
		out.Decisions = out.Decisions[:MaxDecisions]
	}
	return out
}
