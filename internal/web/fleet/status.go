package fleet

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/web"
)

// Failure kinds on the dashboard: the controller's decision actions for a failed launch and an
// agent that never started, and a reconcile cycle that returned an error.
const (
	KindLaunchFailed = controller.ActionLaunchFailed
	KindStartFailed  = controller.ActionStartFailed
	KindCycleError   = "cycle-error"
)

// failureScan is how many recent decisions are searched for failures.
const failureScan = 500

// Status builds the dashboard's snapshot. It notes the pools' cycle errors as Sample does, so a
// failure shows even between two samples.
func (s *Source) Status(ctx context.Context) (web.Status, error) {
	cs, err := s.opts.Controller.Status(ctx)
	if err != nil {
		return web.Status{}, err
	}
	now := s.opts.Now().UTC()
	s.notePools(cs.Pools, now)
	st := web.Status{GeneratedAt: cs.GeneratedAt, SampledAt: s.rec.LastSample()}
	if s.priced() {
		st.Currency = s.opts.Currency
	}
	for _, p := range cs.Pools {
		st.Pools = append(st.Pools, s.pool(p, now))
	}
	for _, d := range cs.Decisions {
		st.Decisions = append(st.Decisions, web.Decision{Time: d.Time, Pool: d.Pool, Action: d.Action, Target: d.Target, Reason: d.Reason})
	}
	if st.Agents, err = s.agents(ctx, now); err != nil {
		return web.Status{}, err
	}
	if st.Failures, err = s.failures(ctx); err != nil {
		return web.Status{}, err
	}
	if st.Checks, err = s.checks(ctx, now); err != nil {
		return web.Status{}, err
	}
	return st, nil
}

func (s *Source) priced() bool {
	for _, p := range s.opts.Prices {
		if p > 0 {
			return true
		}
	}
	return false
}

func (s *Source) pool(p controller.PoolStatus, now time.Time) web.PoolStatus {
	a := p.Agents
	ps := web.PoolStatus{
		Name: p.Name, Provider: p.Provider, Min: p.Min, Max: p.Max, Standby: p.Standby,
		QueuedJobs: p.QueuedJobs, RunningJobs: p.RunningJobs,
		Agents:        web.AgentCounts{Starting: a.Starting, Idle: a.Idle, Busy: a.Busy, Draining: a.Draining, Offline: a.Offline},
		LastReconcile: p.LastReconcile, LastError: p.LastError,
	}
	if price := s.opts.Prices[p.Name]; price > 0 {
		hours := s.rec.AgentSeconds(p.Name, now.Add(-24*time.Hour), now.Add(time.Nanosecond)) / 3600
		live := a.Starting + a.Idle + a.Busy + a.Draining
		ps.Cost = web.Cost{PerAgentHour: price, AgentHours24h: hours, Last24h: hours * price, PerDay: float64(live) * price * 24}
	}
	return ps
}

// agents lists the newest records with their timings. Gone records stay in the store for the
// controller's retention (1 h by default), so recent history shows.
func (s *Source) agents(ctx context.Context, now time.Time) ([]web.Agent, error) {
	recs, err := s.opts.Store.ListAgents(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	slices.SortFunc(recs, func(a, b store.AgentRecord) int { return b.CreatedAt.Compare(a.CreatedAt) })
	recs = recs[:min(len(recs), web.MaxAgents)]
	out := make([]web.Agent, 0, len(recs))
	for _, r := range recs {
		a := web.Agent{
			Name: r.Name, Pool: r.Pool, State: string(r.State), InstanceID: r.InstanceID,
			Launched: r.CreatedAt, Registered: r.RegisteredAt, Job: r.JobRequestID, Reason: r.Reason,
		}
		end := now
		if r.State == store.StateGone {
			a.Gone, end = r.UpdatedAt, r.UpdatedAt
		}
		if !a.Registered.IsZero() && !a.Launched.IsZero() {
			a.StartupSeconds = max(a.Registered.Sub(a.Launched).Seconds(), 0)
		}
		if !a.Launched.IsZero() {
			a.LifetimeSeconds = max(end.Sub(a.Launched).Seconds(), 0)
		}
		out = append(out, a)
	}
	return out, nil
}

// failures merges the failed launches and starts the controller recorded as decisions with the
// cycle errors this process saw.
func (s *Source) failures(ctx context.Context) ([]web.Failure, error) {
	ds, err := s.opts.Store.ListDecisions(ctx, "", failureScan)
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	out := s.cycleErrors()
	for _, d := range ds {
		if d.Action == KindLaunchFailed || d.Action == KindStartFailed {
			out = append(out, web.Failure{Time: d.Time, Pool: d.Pool, Kind: d.Action, Target: d.Target, Message: d.Reason})
		}
	}
	return out, nil
}

// checks lists the check requests still waiting, without their job tokens.
func (s *Source) checks(ctx context.Context, now time.Time) ([]web.Check, error) {
	reqs, err := s.opts.Store.PendingCheckRequests(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list pending check requests: %w", err)
	}
	out := make([]web.Check, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, web.Check{
			Pool: r.Pool, PlanID: r.Key.PlanID, JobID: r.Key.JobID, Received: r.ReceivedAt,
			WaitingSeconds: max(now.Sub(r.ReceivedAt).Seconds(), 0),
		})
	}
	return out, nil
}
