package web_test

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/web"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func sampleStatus() web.Status {
	return web.Status{
		GeneratedAt: t0,
		SampledAt:   t0.Add(-13 * time.Second),
		Currency:    "USD",
		Pools: []web.PoolStatus{
			{
				Name: "linux", Provider: "local", Min: 0, Max: 10, Standby: 2,
				QueuedJobs: 4, RunningJobs: 3,
				Agents:        web.AgentCounts{Starting: 2, Idle: 1, Busy: 3, Draining: 1, Offline: 5},
				LastReconcile: t0.Add(-2 * time.Second),
				Cost:          web.Cost{PerAgentHour: 0.0416, AgentHours24h: 61.5, Last24h: 2.5584, PerDay: 6.9888},
			},
			{
				Name: "windows", Provider: "ecs", Min: 1, Max: 4, Standby: 0,
				QueuedJobs: 0, RunningJobs: 1,
				Agents:    web.AgentCounts{Busy: 1, Offline: 1},
				LastError: "listing instances: throttled",
				Cost:      web.Cost{PerAgentHour: 0.092, AgentHours24h: 20, Last24h: 1.84, PerDay: 2.208},
			},
		},
		Decisions: []web.Decision{
			{Time: t0.Add(-30 * time.Second), Pool: "linux", Action: "launch", Target: "", Reason: "2 queued jobs"},
			{Time: t0.Add(-10 * time.Second), Pool: "linux", Action: "drain", Target: "agent-7", Reason: "idle 5m0s > idle timeout"},
			{Time: t0.Add(-20 * time.Second), Pool: "windows", Action: "terminate", Target: "i-0abc", Reason: "no agent after registration timeout"},
		},
		Agents: []web.Agent{
			{Name: "adofleet-linux-7", Pool: "linux", State: "draining", InstanceID: "local-7",
				Launched: t0.Add(-9 * time.Minute), Registered: t0.Add(-8*time.Minute - 31*time.Second),
				StartupSeconds: 29, LifetimeSeconds: 540, Reason: "idle 5m0s > idle timeout"},
			{Name: "adofleet-linux-9", Pool: "linux", State: "launched", InstanceID: "local-9",
				Launched: t0.Add(-20 * time.Second), LifetimeSeconds: 20, Reason: "2 queued jobs"},
			{Name: "adofleet-linux-3", Pool: "linux", State: "gone", InstanceID: "local-3", Job: 4411,
				Launched: t0.Add(-50 * time.Minute), Registered: t0.Add(-49 * time.Minute), Gone: t0.Add(-31 * time.Minute),
				StartupSeconds: 60, LifetimeSeconds: 1140, Reason: "agent and instance both gone"},
		},
		Failures: []web.Failure{
			{Time: t0.Add(-5 * time.Minute), Pool: "windows", Kind: "launch-failed", Target: "adofleet-windows-2", Message: "launch: insufficient capacity"},
			{Time: t0.Add(-40 * time.Second), Pool: "windows", Kind: "cycle-error", Message: "listing instances: throttled"},
		},
		Checks: []web.Check{
			{Pool: "linux", PlanID: "7f3c0a4e", JobID: "b1", Received: t0.Add(-95 * time.Second), WaitingSeconds: 95},
		},
	}
}

// sampleHistory is an hour of one-minute points per pool ending at end, shaped like a morning of
// builds: demand rises, agents start and get busy, then idle ones drain.
func sampleHistory(end time.Time, pools map[string]int) map[string]web.PoolHistory {
	out := map[string]web.PoolHistory{}
	for name, maxAgents := range pools {
		ph := web.PoolHistory{Pool: name, Max: maxAgents}
		prev := 0
		for i := range 60 {
			wave := math.Sin(float64(i) / 9)
			demand := int(math.Round(float64(maxAgents) * 0.8 * (wave + 1) / 2))
			ph.Points = append(ph.Points, web.Point{
				Time:     end.Add(time.Duration(i-59) * time.Minute).Truncate(time.Minute),
				Queued:   max(0, demand-maxAgents*3/5),
				Starting: max(0, demand-prev),
				Idle:     max(0, prev-demand) + 1,
				Busy:     min(demand, maxAgents*3/5),
			})
			prev = demand
		}
		out[name] = ph
	}
	return out
}

// fakeSource is a StatusSource and HistorySource whose answers a test can change at any time.
type fakeSource struct {
	mu   sync.Mutex
	st   web.Status
	err  error
	hist map[string]web.PoolHistory
}

func (f *fakeSource) Status(context.Context) (web.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st, f.err
}

// History returns the points of each pool of the status within the window before GeneratedAt.
func (f *fakeSource) History(_ context.Context, window time.Duration) (web.History, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := web.History{Start: f.st.GeneratedAt.Add(-window), End: f.st.GeneratedAt, StepSeconds: 60}
	for _, p := range f.st.Pools {
		ph, ok := f.hist[p.Name]
		if !ok {
			continue
		}
		out := web.PoolHistory{Pool: ph.Pool, Max: ph.Max}
		for _, pt := range ph.Points {
			if !pt.Time.Before(h.Start.Truncate(time.Minute)) && !pt.Time.After(h.End) {
				out.Points = append(out.Points, pt)
			}
		}
		h.Pools = append(h.Pools, out)
	}
	return h, f.err
}

func (f *fakeSource) set(st web.Status, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st, f.err = st, err
}

func (f *fakeSource) setHistory(h map[string]web.PoolHistory) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hist = h
}

func newSampleSource() *fakeSource {
	return &fakeSource{st: sampleStatus(), hist: sampleHistory(t0, map[string]int{"linux": 10, "windows": 4})}
}
