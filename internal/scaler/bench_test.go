package scaler_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/scaler"
)

// bigSnapshot is a large pool: 10,000 agents (busy, idle, idle long, offline, finished), 10,000
// instances (most with an agent, some orphans), 2,000 jobs (half queued with demands, half
// running).
func bigSnapshot() scaler.Snapshot {
	s := scaler.Snapshot{Pool: "big", Launching: 50, Draining: map[string]bool{}}
	for i := range 10_000 {
		name := fmt.Sprintf("agent-%05d", i)
		a := scaler.Agent{ID: i + 1, Name: name, Online: true, Enabled: true, Ours: i%10 != 0,
			IdleSince: now.Add(-time.Duration(i%30) * time.Minute), CreatedOn: now.Add(-time.Hour)}
		switch i % 7 {
		case 0:
			a.Busy = true
		case 1:
			a.Online = false
		case 2:
			a.Online, a.Finished = i%2 == 0, true
		}
		if i%97 == 0 {
			s.Draining[name] = true
		}
		s.Agents = append(s.Agents, a)
		agent := name
		if i%20 == 0 {
			agent = fmt.Sprintf("never-registered-%05d", i)
		}
		s.Instances = append(s.Instances, scaler.Instance{ID: fmt.Sprintf("i-%05d", i), AgentName: agent,
			LaunchedAt: now.Add(-time.Duration(i%40) * time.Minute)})
	}
	demands := [][]string{nil, {"docker"}, {"Agent.OS -equals Linux", "Agent.Version -gtVersion 2.163.1"}, {"gpu"}}
	for i := range 2_000 {
		j := scaler.Job{ID: int64(i + 1), QueueTime: now.Add(-time.Minute), Demands: demands[i%len(demands)]}
		if i%2 == 1 {
			j.AgentID = i*5 + 1
		}
		s.Jobs = append(s.Jobs, j)
	}
	return s
}

func BenchmarkPlan(b *testing.B) {
	s := bigSnapshot()
	p := with(func(p *scaler.Policy) { p.Max = 12_000; p.Min = 10; p.Standby = 5; p.MaxLaunchPerCycle = 100 })
	b.ReportAllocs()
	var a scaler.Actions
	for b.Loop() {
		a = scaler.Plan(s, p, now)
	}
	b.ReportMetric(float64(len(a.Drain)+len(a.DeleteAgents)+len(a.Terminate)+a.Launch), "steps/op")
}

// BenchmarkPlanner is BenchmarkPlan with one Planner reused, as the controller plans each pool.
func BenchmarkPlanner(b *testing.B) {
	s := bigSnapshot()
	p := with(func(p *scaler.Policy) { p.Max = 12_000; p.Min = 10; p.Standby = 5; p.MaxLaunchPerCycle = 100 })
	b.ReportAllocs()
	var pl scaler.Planner
	var a scaler.Actions
	for b.Loop() {
		a = pl.Plan(s, p, now)
	}
	b.ReportMetric(float64(len(a.Drain)+len(a.DeleteAgents)+len(a.Terminate)+a.Launch), "steps/op")
}
