package scaler_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/scaler"
)

// instancesFor gives each named agent an instance "i-<name>" launched an hour ago.
func instancesFor(names ...string) []scaler.Instance {
	var out []scaler.Instance
	for _, n := range names {
		out = append(out, inst("i-"+n, n, time.Hour))
	}
	return out
}

func TestPlanDrain(t *testing.T) {
	t.Parallel()
	long, short := 10*time.Minute, time.Minute
	tests := []struct {
		name   string
		snap   scaler.Snapshot
		policy scaler.Policy
		want   []string // drained agent names, sorted
	}{
		{
			name:   "idle longer than the timeout",
			snap:   scaler.Snapshot{Agents: []scaler.Agent{idleAgent(1, "a1", long)}, Instances: instancesFor("a1")},
			policy: basePolicy(),
			want:   []string{"a1"},
		},
		{
			name:   "idle exactly the timeout is kept",
			snap:   scaler.Snapshot{Agents: []scaler.Agent{idleAgent(1, "a1", 5*time.Minute)}, Instances: instancesFor("a1")},
			policy: basePolicy(),
		},
		{
			name:   "idle less than the timeout is kept",
			snap:   scaler.Snapshot{Agents: []scaler.Agent{idleAgent(1, "a1", short)}, Instances: instancesFor("a1")},
			policy: basePolicy(),
		},
		{
			name: "oldest idle first, standby kept",
			snap: scaler.Snapshot{
				Agents:    []scaler.Agent{idleAgent(1, "a1", 20*time.Minute), idleAgent(2, "a2", 30*time.Minute), idleAgent(3, "a3", long)},
				Instances: instancesFor("a1", "a2", "a3"),
			},
			policy: with(func(p *scaler.Policy) { p.Standby = 1 }),
			want:   []string{"a1", "a2"},
		},
		{
			name: "kept for matching queued jobs",
			snap: scaler.Snapshot{
				Jobs:      jobs(queued(1, 1), queued(5, 3, "gpu")),
				Agents:    []scaler.Agent{idleAgent(1, "a1", 20*time.Minute), idleAgent(2, "a2", 30*time.Minute)},
				Instances: instancesFor("a1", "a2"),
			},
			policy: basePolicy(),
			want:   []string{"a2"},
		},
		{
			name: "min kept",
			snap: scaler.Snapshot{
				Agents:    []scaler.Agent{idleAgent(1, "a1", 20*time.Minute), idleAgent(2, "a2", 30*time.Minute), idleAgent(3, "a3", long)},
				Instances: instancesFor("a1", "a2", "a3"),
			},
			policy: with(func(p *scaler.Policy) { p.Min = 2 }),
			want:   []string{"a2"},
		},
		{
			name: "a ready agent of someone else is supply, so ours goes",
			snap: scaler.Snapshot{
				Agents: []scaler.Agent{
					modify(idleAgent(1, "static", long), func(a *scaler.Agent) { a.Ours = false }),
					idleAgent(2, "a2", long),
				},
				Instances: instancesFor("a2"),
			},
			policy: with(func(p *scaler.Policy) { p.Standby = 1 }),
			want:   []string{"a2"},
		},
		{
			name: "never busy, even if idle long ago",
			snap: scaler.Snapshot{
				Jobs: []scaler.Job{running(1, 2)},
				Agents: []scaler.Agent{
					modify(idleAgent(1, "flagged", time.Hour), func(a *scaler.Agent) { a.Busy = true }),
					idleAgent(2, "assigned", time.Hour), // a job names it: busy though its flag says not
				},
				Instances: instancesFor("flagged", "assigned"),
			},
			policy: basePolicy(),
		},
		{
			name: "never a placeholder, someone else's agent, or one already draining",
			snap: scaler.Snapshot{
				Agents: []scaler.Agent{
					modify(placeholder(1, "ph"), func(a *scaler.Agent) { a.Online = true }),
					modify(idleAgent(2, "static", long), func(a *scaler.Agent) { a.Ours = false }),
					idleAgent(3, "draining", long),
				},
				Instances: instancesFor("draining"),
				Draining:  map[string]bool{"draining": true},
			},
			policy: basePolicy(),
		},
		{
			name: "never disabled or offline",
			snap: scaler.Snapshot{
				Agents: []scaler.Agent{
					modify(idleAgent(1, "disabled", long), func(a *scaler.Agent) { a.Enabled = false }),
					modify(idleAgent(2, "offline", long), func(a *scaler.Agent) { a.Online = false }),
				},
				Instances: instancesFor("disabled", "offline"),
			},
			policy: basePolicy(),
		},
		{
			name: "a finished one-job agent still online is drained after the idle timeout, whatever the demand",
			snap: scaler.Snapshot{
				Jobs:      queued(1, 2),
				Agents:    []scaler.Agent{finishedAgent(1, "done", true, long), finishedAgent(2, "fresh", true, short)},
				Instances: instancesFor("done", "fresh"),
			},
			policy: with(func(p *scaler.Policy) { p.Standby = 2; p.Min = 2 }),
			want:   []string{"done"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scaler.Plan(tt.snap, tt.policy, now)
			if diff := cmp.Diff(tt.want, targets(got.Drain)); diff != "" {
				t.Errorf("drained (-want +got):\n%s", diff)
			}
			for _, s := range got.Drain {
				if s.Action != scaler.ActionDrain || s.Reason == "" {
					t.Errorf("step %+v: want action %q and a reason", s, scaler.ActionDrain)
				}
			}
		})
	}
}

func TestPlanDrainStep(t *testing.T) {
	t.Parallel()
	snap := scaler.Snapshot{
		Agents:    []scaler.Agent{idleAgent(7, "a7", 12*time.Minute)},
		Instances: []scaler.Instance{inst("i-b", "a7", time.Hour), inst("i-a", "a7", time.Hour)},
	}
	got := scaler.Plan(snap, basePolicy(), now)
	want := []scaler.Step{{
		Action: scaler.ActionDrain, Target: "a7", AgentID: 7, InstanceID: "i-a",
		Reason: "idle 12m0s (idle timeout 5m0s); 1 ready agent for 0 matching queued jobs, 0 standby agents, min 0 with 2 live: drain the 1 idle longest",
	}}
	if diff := cmp.Diff(want, got.Drain); diff != "" {
		t.Errorf("Drain (-want +got):\n%s", diff)
	}
	if got.Launch != 0 {
		t.Errorf("Launch = %d, want 0", got.Launch)
	}
}
