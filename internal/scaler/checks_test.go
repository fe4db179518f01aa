package scaler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/scaler"
)

// TestPlanCheckDemands: pending checks count like matching queued jobs in the launch rule.
func TestPlanCheckDemands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		snap   scaler.Snapshot
		policy scaler.Policy
		want   int
		reason string
	}{
		{
			name:   "checks waiting with no queued job launch one agent each",
			snap:   scaler.Snapshot{Demands: 2},
			policy: basePolicy(),
			want:   2,
			reason: "0 queued jobs match the pool, 2 checks waiting, 0 idle agents, 0 starting: launch 2",
		},
		{
			name: "supply is subtracted",
			snap: scaler.Snapshot{
				Demands:   3,
				Jobs:      queued(1, 1),
				Agents:    []scaler.Agent{idleAgent(1, "a1", time.Minute)},
				Instances: []scaler.Instance{inst("i1", "a1", time.Hour)},
				Launching: 1,
			},
			policy: basePolicy(),
			want:   2,
			reason: "1 queued job matches the pool, 3 checks waiting, 1 idle agent, 1 starting: launch 2",
		},
		{
			name:   "max still caps",
			snap:   scaler.Snapshot{Demands: 5, Instances: []scaler.Instance{inst("i1", "x", time.Minute)}},
			policy: with(func(p *scaler.Policy) { p.Max = 3 }),
			want:   2,
			reason: "0 queued jobs match the pool, 5 checks waiting, 0 idle agents, 1 starting: want 4, capacity 1 of max 3: launch 2",
		},
		{
			name:   "negative demands count as none",
			snap:   scaler.Snapshot{Demands: -4},
			policy: basePolicy(),
			want:   0,
			reason: "0 queued jobs match the pool, 0 idle agents, 0 starting: launch 0",
		},
		{
			name:   "one check",
			snap:   scaler.Snapshot{Demands: 1},
			policy: basePolicy(),
			want:   1,
			reason: "0 queued jobs match the pool, 1 check waiting, 0 idle agents, 0 starting: launch 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scaler.Plan(tt.snap, tt.policy, now)
			if got.Launch != tt.want {
				t.Errorf("Launch = %d, want %d (reason %q)", got.Launch, tt.want, got.LaunchReason)
			}
			if got.LaunchReason != tt.reason {
				t.Errorf("LaunchReason = %q, want %q", got.LaunchReason, tt.reason)
			}
		})
	}
}

// TestPlanDrainKeepsCheckAgents: idle agents that waiting checks need, or that a check reserved,
// are not drained.
func TestPlanDrainKeepsCheckAgents(t *testing.T) {
	t.Parallel()
	three := []scaler.Agent{idleAgent(1, "a1", time.Hour), idleAgent(2, "a2", 30*time.Minute), idleAgent(3, "a3", 20*time.Minute)}
	insts := []scaler.Instance{inst("i1", "a1", 2*time.Hour), inst("i2", "a2", 2*time.Hour), inst("i3", "a3", 2*time.Hour)}
	tests := []struct {
		name string
		snap scaler.Snapshot
		want []string
	}{
		{
			name: "no demand: all idle agents drained",
			snap: scaler.Snapshot{Agents: three, Instances: insts},
			want: []string{"a1", "a2", "a3"},
		},
		{
			name: "two checks waiting keep two agents, the longest idle goes",
			snap: scaler.Snapshot{Agents: three, Instances: insts, Demands: 2},
			want: []string{"a1"},
		},
		{
			name: "checks and queued jobs together keep every agent",
			snap: scaler.Snapshot{Agents: three, Instances: insts, Demands: 2, Jobs: queued(1, 1)},
			want: nil,
		},
		{
			name: "a reserved agent is never drained",
			snap: scaler.Snapshot{Agents: three, Instances: insts, Reserved: map[string]bool{"a1": true}},
			want: []string{"a2", "a3"},
		},
		{
			name: "a reserved agent is supply: a queued job does not keep another",
			snap: scaler.Snapshot{Agents: three, Instances: insts, Reserved: map[string]bool{"a1": true}, Jobs: queued(1, 1)},
			want: []string{"a2", "a3"},
		},
		{
			name: "a finished one-job agent is drained even if reserved",
			snap: scaler.Snapshot{
				Agents:    []scaler.Agent{finishedAgent(1, "a1", true, time.Hour)},
				Instances: insts[:1],
				Reserved:  map[string]bool{"a1": true},
			},
			want: []string{"a1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scaler.Plan(tt.snap, basePolicy(), now)
			if g := targets(got.Drain); strings.Join(g, ",") != strings.Join(tt.want, ",") {
				t.Errorf("drained %v, want %v", g, tt.want)
			}
			if tt.snap.Demands > 0 {
				for _, st := range got.Drain {
					if !strings.Contains(st.Reason, "checks waiting") {
						t.Errorf("drain reason %q does not name the waiting checks", st.Reason)
					}
				}
			}
		})
	}
}
