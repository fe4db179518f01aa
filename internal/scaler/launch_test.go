package scaler_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/scaler"
)

func TestPlanLaunch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		snap   scaler.Snapshot
		policy scaler.Policy
		want   int
		// reason, when set, is the exact LaunchReason; otherwise it must contain "launch <want>".
		reason string
	}{
		{
			name: "queued jobs less idle agents",
			snap: scaler.Snapshot{
				Jobs:      queued(1, 3),
				Agents:    []scaler.Agent{idleAgent(1, "a1", time.Minute)},
				Instances: []scaler.Instance{inst("i1", "a1", time.Hour)},
			},
			policy: basePolicy(),
			want:   2,
			reason: "3 queued jobs match the pool, 1 idle agent, 0 starting: launch 2",
		},
		{
			name:   "nothing queued",
			snap:   scaler.Snapshot{},
			policy: basePolicy(),
			want:   0,
			reason: "0 queued jobs match the pool, 0 idle agents, 0 starting: launch 0",
		},
		{
			name:   "jobs whose demands the pool does not meet are not ours",
			snap:   scaler.Snapshot{Jobs: jobs(queued(1, 2, "Agent.OS -equals Linux"), queued(10, 3, "Agent.OS -equals Windows_NT"), queued(20, 1, "gpu"))},
			policy: basePolicy(),
			want:   2,
			reason: "2 queued jobs match the pool (4 more not ours: demands not met), 0 idle agents, 0 starting: launch 2",
		},
		{
			name: "assigned jobs are not queued",
			snap: scaler.Snapshot{
				Jobs:      jobs(queued(1, 1), []scaler.Job{running(2, 7)}),
				Agents:    []scaler.Agent{busyAgent(7, "a7")},
				Instances: []scaler.Instance{inst("i7", "a7", time.Hour)},
			},
			policy: basePolicy(),
			want:   1,
		},
		{
			name: "starting instances are supply: unregistered, and registered but not yet online",
			snap: scaler.Snapshot{
				Jobs:      queued(1, 3),
				Agents:    []scaler.Agent{modify(offlineAgent(2, "a2"), func(a *scaler.Agent) { a.CreatedOn = now })},
				Instances: []scaler.Instance{inst("i1", "a1", time.Minute), inst("i2", "a2", time.Minute)},
			},
			policy: basePolicy(),
			want:   1,
			reason: "3 queued jobs match the pool, 0 idle agents, 2 starting: launch 1",
		},
		{
			name:   "launches in flight are supply",
			snap:   scaler.Snapshot{Jobs: queued(1, 3), Launching: 2},
			policy: basePolicy(),
			want:   1,
		},
		{
			name: "an agent of someone else that is ready is supply",
			snap: scaler.Snapshot{
				Jobs:   queued(1, 2),
				Agents: []scaler.Agent{modify(idleAgent(1, "static", time.Minute), func(a *scaler.Agent) { a.Ours = false })},
			},
			policy: basePolicy(),
			want:   1,
		},
		{
			name: "not supply: placeholder, disabled, draining, finished one-job, busy",
			snap: scaler.Snapshot{
				Jobs: queued(1, 2),
				Agents: []scaler.Agent{
					modify(placeholder(1, "ph"), func(a *scaler.Agent) { a.Online = true }),
					modify(idleAgent(2, "disabled", time.Minute), func(a *scaler.Agent) { a.Enabled = false }),
					idleAgent(3, "draining", time.Minute),
					finishedAgent(4, "finished", true, time.Minute),
					busyAgent(5, "busy"),
				},
				Instances: []scaler.Instance{inst("i2", "disabled", time.Hour), inst("i3", "draining", time.Hour),
					inst("i4", "finished", time.Hour), inst("i5", "busy", time.Hour)},
				Draining: map[string]bool{"draining": true},
			},
			policy: basePolicy(),
			want:   2,
		},
		{
			name: "a finished agent is supply when agents are not one-job",
			snap: scaler.Snapshot{
				Jobs:      queued(1, 2),
				Agents:    []scaler.Agent{finishedAgent(1, "a1", true, time.Minute)},
				Instances: []scaler.Instance{inst("i1", "a1", time.Hour)},
			},
			policy: with(func(p *scaler.Policy) { p.OneJobPerAgent = false }),
			want:   1,
		},
		{
			name: "an orphan being terminated is not supply but still counts against max",
			snap: scaler.Snapshot{
				Jobs:      queued(1, 2),
				Instances: []scaler.Instance{inst("i1", "ghost", time.Hour)},
			},
			policy: with(func(p *scaler.Policy) { p.Max = 2 }),
			want:   1,
			reason: "2 queued jobs match the pool, 0 idle agents, 0 starting: want 2, capacity 1 of max 2: launch 1",
		},
		{
			name:   "never above max",
			snap:   scaler.Snapshot{Jobs: queued(1, 12), Instances: []scaler.Instance{inst("i1", "a1", time.Minute)}, Launching: 7},
			policy: basePolicy(),
			want:   2,
			reason: "12 queued jobs match the pool, 0 idle agents, 8 starting: want 4, capacity 8 of max 10: launch 2",
		},
		{
			name:   "max 0 launches nothing",
			snap:   scaler.Snapshot{Jobs: queued(1, 5)},
			policy: with(func(p *scaler.Policy) { p.Max = 0; p.Min = 1 }),
			want:   0,
			reason: "5 queued jobs match the pool, 0 idle agents, 0 starting, min 1 with 0 live: want 5, capacity 0 of max 0: launch 0",
		},
		{
			name:   "already above max launches nothing",
			snap:   scaler.Snapshot{Jobs: queued(1, 5), Launching: 12},
			policy: basePolicy(),
			want:   0,
		},
		{
			name:   "at most MaxLaunchPerCycle",
			snap:   scaler.Snapshot{Jobs: queued(1, 8)},
			policy: with(func(p *scaler.Policy) { p.MaxLaunchPerCycle = 3 }),
			want:   3,
			reason: "8 queued jobs match the pool, 0 idle agents, 0 starting: want 8, at most 3 per cycle: launch 3",
		},
		{
			name:   "min above queued",
			snap:   scaler.Snapshot{Jobs: queued(1, 1)},
			policy: with(func(p *scaler.Policy) { p.Min = 3 }),
			want:   3,
			reason: "1 queued job matches the pool, 0 idle agents, 0 starting, min 3 with 0 live: launch 3",
		},
		{
			name: "min is met by busy agents",
			snap: scaler.Snapshot{
				Agents:    []scaler.Agent{busyAgent(1, "a1"), busyAgent(2, "a2")},
				Instances: []scaler.Instance{inst("i1", "a1", time.Hour), inst("i2", "a2", time.Hour)},
			},
			policy: with(func(p *scaler.Policy) { p.Min = 2 }),
			want:   0,
		},
		{
			name: "min counts live after terminations",
			snap: scaler.Snapshot{
				Instances: []scaler.Instance{inst("i1", "ghost", time.Hour), inst("i2", "a2", time.Minute)},
			},
			policy: with(func(p *scaler.Policy) { p.Min = 2 }),
			want:   1,
		},
		{
			name: "standby with busy agents",
			snap: scaler.Snapshot{
				Jobs:      []scaler.Job{running(1, 1), running(2, 2), running(3, 3)},
				Agents:    []scaler.Agent{busyAgent(1, "a1"), busyAgent(2, "a2"), busyAgent(3, "a3")},
				Instances: []scaler.Instance{inst("i1", "a1", time.Hour), inst("i2", "a2", time.Hour), inst("i3", "a3", time.Hour)},
			},
			policy: with(func(p *scaler.Policy) { p.Standby = 2 }),
			want:   2,
			reason: "0 queued jobs match the pool, standby 2, 0 idle agents, 0 starting: launch 2",
		},
		{
			name: "standby met by idle agents",
			snap: scaler.Snapshot{
				Jobs:      queued(1, 1),
				Agents:    []scaler.Agent{idleAgent(1, "a1", time.Minute), idleAgent(2, "a2", time.Minute)},
				Instances: []scaler.Instance{inst("i1", "a1", time.Hour), inst("i2", "a2", time.Hour)},
			},
			policy: with(func(p *scaler.Policy) { p.Standby = 1 }),
			want:   0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scaler.Plan(tt.snap, tt.policy, now)
			if got.Launch != tt.want {
				t.Errorf("Launch = %d, want %d (reason %q)", got.Launch, tt.want, got.LaunchReason)
			}
			switch {
			case tt.reason != "":
				if got.LaunchReason != tt.reason {
					t.Errorf("LaunchReason = %q, want %q", got.LaunchReason, tt.reason)
				}
			case !strings.HasSuffix(got.LaunchReason, ": launch "+strconv.Itoa(tt.want)):
				t.Errorf("LaunchReason = %q, want it to end with %q", got.LaunchReason, ": launch "+strconv.Itoa(tt.want))
			}
		})
	}
}
