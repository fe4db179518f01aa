package scaler_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/scaler"
)

func TestPlanDeleteAgents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		snap   scaler.Snapshot
		policy scaler.Policy
		want   []string
	}{
		{
			name:   "ours, offline, no instance",
			snap:   scaler.Snapshot{Agents: []scaler.Agent{offlineAgent(2, "b"), offlineAgent(1, "a")}},
			policy: basePolicy(),
			want:   []string{"a", "b"},
		},
		{
			name:   "an instance is still alive",
			snap:   scaler.Snapshot{Agents: []scaler.Agent{offlineAgent(1, "a")}, Instances: instancesFor("a")},
			policy: basePolicy(),
		},
		{
			name: "never someone else's, a placeholder, a busy one, an online one, or one draining",
			snap: scaler.Snapshot{
				Agents: []scaler.Agent{
					modify(offlineAgent(1, "static"), func(a *scaler.Agent) { a.Ours = false }),
					placeholder(2, "ph"),
					modify(offlineAgent(3, "busy"), func(a *scaler.Agent) { a.Busy = true }),
					offlineAgent(4, "assigned"),
					idleAgent(5, "online", time.Hour),
					offlineAgent(6, "draining"),
				},
				Jobs:     []scaler.Job{running(1, 4)},
				Draining: map[string]bool{"draining": true},
			},
			policy: basePolicy(),
		},
		{
			name: "a finished one-job agent offline goes, instance or not",
			snap: scaler.Snapshot{
				Agents:    []scaler.Agent{finishedAgent(1, "done", false, time.Minute), finishedAgent(2, "still-online", true, time.Minute)},
				Instances: instancesFor("done", "still-online"),
			},
			policy: basePolicy(),
			want:   []string{"done"},
		},
		{
			name: "finished means nothing when agents are not one-job",
			snap: scaler.Snapshot{
				Agents:    []scaler.Agent{finishedAgent(1, "done", false, time.Minute)},
				Instances: instancesFor("done"),
			},
			policy: with(func(p *scaler.Policy) { p.OneJobPerAgent = false }),
		},
		{
			name: "registered less than NewAgentGrace ago is kept; exactly at it goes",
			snap: scaler.Snapshot{Agents: []scaler.Agent{
				modify(offlineAgent(1, "new"), func(a *scaler.Agent) { a.CreatedOn = now.Add(-scaler.NewAgentGrace + time.Second) }),
				modify(offlineAgent(2, "graced"), func(a *scaler.Agent) { a.CreatedOn = now.Add(-scaler.NewAgentGrace) }),
			}},
			policy: basePolicy(),
			want:   []string{"graced"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scaler.Plan(tt.snap, tt.policy, now)
			if diff := cmp.Diff(tt.want, targets(got.DeleteAgents)); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanDeleteStep(t *testing.T) {
	t.Parallel()
	got := scaler.Plan(scaler.Snapshot{Agents: []scaler.Agent{offlineAgent(9, "a9")}}, basePolicy(), now)
	want := []scaler.Step{{
		Action: scaler.ActionDelete, Target: "a9", AgentID: 9,
		Reason: `agent "a9" was created by adofleet, is offline and has no live instance`,
	}}
	if diff := cmp.Diff(want, got.DeleteAgents); diff != "" {
		t.Errorf("DeleteAgents (-want +got):\n%s", diff)
	}
}

func TestPlanTerminate(t *testing.T) {
	t.Parallel()
	reg := 10 * time.Minute
	tests := []struct {
		name   string
		snap   scaler.Snapshot
		policy scaler.Policy
		want   []string // instance ids
	}{
		{
			name:   "no agent after the registration timeout",
			snap:   scaler.Snapshot{Instances: []scaler.Instance{inst("i2", "ghost2", reg+time.Second), inst("i1", "ghost1", time.Hour)}},
			policy: basePolicy(),
			want:   []string{"i1", "i2"},
		},
		{
			name:   "exactly at the registration timeout is kept; a nanosecond later goes",
			snap:   scaler.Snapshot{Instances: []scaler.Instance{inst("at", "x", reg), inst("past", "y", reg+time.Nanosecond)}},
			policy: basePolicy(),
			want:   []string{"past"},
		},
		{
			name:   "no agent yet, within the timeout",
			snap:   scaler.Snapshot{Instances: []scaler.Instance{inst("i1", "new", time.Minute)}},
			policy: basePolicy(),
		},
		{
			name: "agent registered but offline after the registration timeout",
			snap: scaler.Snapshot{
				Agents:    []scaler.Agent{offlineAgent(1, "stuck"), offlineAgent(2, "coming")},
				Instances: []scaler.Instance{inst("i1", "stuck", reg+time.Second), inst("i2", "coming", time.Minute)},
			},
			policy: basePolicy(),
			want:   []string{"i1"},
		},
		{
			name: "finished one-job agent offline longer than the grace",
			snap: scaler.Snapshot{
				Agents: []scaler.Agent{
					finishedAgent(1, "lingering", false, scaler.FinishedGrace+time.Second),
					finishedAgent(2, "exiting", false, scaler.FinishedGrace),
				},
				Instances: []scaler.Instance{inst("i1", "lingering", time.Hour), inst("i2", "exiting", time.Hour)},
			},
			policy: basePolicy(),
			want:   []string{"i1"},
		},
		{
			name: "never: busy (flag or assigned), online, placeholder, draining, ambiguous name",
			snap: scaler.Snapshot{
				Jobs: []scaler.Job{running(1, 2)},
				Agents: []scaler.Agent{
					modify(offlineAgent(1, "busy"), func(a *scaler.Agent) { a.Busy = true; a.Finished = true }),
					offlineAgent(2, "assigned"),
					idleAgent(3, "online", time.Hour),
					placeholder(4, "ph"),
					offlineAgent(5, "draining"),
					offlineAgent(6, "twin"),
					modify(offlineAgent(7, "twin"), func(a *scaler.Agent) { a.Busy = true }),
				},
				Instances: []scaler.Instance{
					inst("i1", "busy", time.Hour), inst("i2", "assigned", time.Hour), inst("i3", "online", time.Hour),
					inst("i4", "ph", time.Hour), inst("i5", "draining", time.Hour), inst("i6", "twin", time.Hour),
				},
				Draining: map[string]bool{"draining": true},
			},
			policy: basePolicy(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scaler.Plan(tt.snap, tt.policy, now)
			if diff := cmp.Diff(tt.want, targets(got.Terminate)); diff != "" {
				t.Errorf("terminated (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanTerminateSteps(t *testing.T) {
	t.Parallel()
	snap := scaler.Snapshot{
		Agents:    []scaler.Agent{finishedAgent(3, "a3", false, 5*time.Minute)},
		Instances: []scaler.Instance{inst("i-ghost", "ghost", 11*time.Minute), inst("i-a3", "a3", time.Hour)},
	}
	got := scaler.Plan(snap, basePolicy(), now)
	want := []scaler.Step{
		{
			Action: scaler.ActionTerminate, Target: "i-a3", InstanceID: "i-a3", AgentID: 3,
			Reason: `one-job agent "a3" finished its job and is offline; instance still alive 5m0s later (grace 2m0s)`,
		},
		{
			Action: scaler.ActionTerminate, Target: "i-ghost", InstanceID: "i-ghost",
			Reason: `no agent named "ghost" registered 11m0s after launch (registration timeout 10m0s)`,
		},
	}
	if diff := cmp.Diff(want, got.Terminate); diff != "" {
		t.Errorf("Terminate (-want +got):\n%s", diff)
	}
}
