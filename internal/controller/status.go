package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// StatusDecisions is how many recent decisions Status returns.
const StatusDecisions = 50

// Status is every pool's state at its last reconcile and the recent decisions, newest first. Its
// shape mirrors web.Status so the CLI adapts one to the other field by field.
type Status struct {
	GeneratedAt time.Time
	Pools       []PoolStatus
	Decisions   []store.Decision
}

// PoolStatus is one pool's bounds and what its last reconcile saw.
type PoolStatus struct {
	Name          string
	Provider      string
	Min           int
	Max           int
	Standby       int
	QueuedJobs    int
	RunningJobs   int
	Agents        AgentCounts
	LastReconcile time.Time // zero before the first cycle
	LastError     string    // empty when the last cycle succeeded
}

// Status reports each pool, in config order, and the newest decisions across pools.
func (c *Controller) Status(ctx context.Context) (Status, error) {
	st := Status{GeneratedAt: c.opts.Now(), Pools: make([]PoolStatus, 0, len(c.pools))}
	for _, p := range c.pools {
		p.mu.Lock()
		ps := PoolStatus{
			Name:          p.cfg.Name,
			Provider:      p.cfg.Provider,
			Min:           p.cfg.Policy.Min,
			Max:           p.cfg.Policy.Max,
			Standby:       p.cfg.Policy.Standby,
			QueuedJobs:    p.counts.QueuedJobs,
			RunningJobs:   p.counts.RunningJobs,
			Agents:        p.counts.Agents,
			LastReconcile: p.lastReconcile,
			LastError:     p.lastErr,
		}
		p.mu.Unlock()
		st.Pools = append(st.Pools, ps)
	}
	ds, err := c.opts.Store.ListDecisions(ctx, "", StatusDecisions)
	if err != nil {
		return st, fmt.Errorf("status: list decisions: %w", err)
	}
	st.Decisions = ds
	return st, nil
}
