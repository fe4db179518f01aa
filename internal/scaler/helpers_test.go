package scaler_test

import (
	"time"

	"github.com/adofleet/adofleet/internal/scaler"
)

// now is the planning time of every table test.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// basePolicy: max 10, idle timeout 5m, registration timeout 10m, one job per agent, linux agents.
func basePolicy() scaler.Policy {
	return scaler.Policy{
		Max:                 10,
		IdleTimeout:         5 * time.Minute,
		RegistrationTimeout: 10 * time.Minute,
		OneJobPerAgent:      true,
		Capabilities:        map[string]string{"Agent.OS": "Linux", "docker": ""},
	}
}

// with applies changes to the base policy.
func with(change func(p *scaler.Policy)) scaler.Policy {
	p := basePolicy()
	change(&p)
	return p
}

// idleAgent is one of ours, online, enabled and idle for d.
func idleAgent(id int, name string, d time.Duration) scaler.Agent {
	return scaler.Agent{ID: id, Name: name, Online: true, Enabled: true, Ours: true,
		IdleSince: now.Add(-d), CreatedOn: now.Add(-time.Hour)}
}

// busyAgent is one of ours, online, enabled and running a job since long ago.
func busyAgent(id int, name string) scaler.Agent {
	a := idleAgent(id, name, time.Hour)
	a.Busy = true
	return a
}

// offlineAgent is one of ours, registered an hour ago and offline.
func offlineAgent(id int, name string) scaler.Agent {
	a := idleAgent(id, name, time.Hour)
	a.Online = false
	return a
}

// finishedAgent is a one-job agent of ours that finished its job d ago, online or not.
func finishedAgent(id int, name string, online bool, d time.Duration) scaler.Agent {
	a := idleAgent(id, name, d)
	a.Online, a.Finished = online, true
	return a
}

// placeholder is the offline template agent kept for scale to zero.
func placeholder(id int, name string) scaler.Agent {
	return scaler.Agent{ID: id, Name: name, Enabled: true, Ours: true, Placeholder: true,
		CreatedOn: now.Add(-24 * time.Hour)}
}

// modify returns a changed copy of an agent.
func modify(a scaler.Agent, change func(a *scaler.Agent)) scaler.Agent {
	change(&a)
	return a
}

// inst is a live instance running agent, launched age ago.
func inst(id, agent string, age time.Duration) scaler.Instance {
	return scaler.Instance{ID: id, AgentName: agent, LaunchedAt: now.Add(-age)}
}

// queued returns n queued jobs with these demands, ids from first.
func queued(first int64, n int, demands ...string) []scaler.Job {
	var out []scaler.Job
	for i := range int64(n) {
		out = append(out, scaler.Job{ID: first + i, QueueTime: now.Add(-time.Minute), Demands: demands})
	}
	return out
}

// running is a job assigned to the agent with that id.
func running(id int64, agentID int) scaler.Job {
	return scaler.Job{ID: id, QueueTime: now.Add(-time.Hour), AgentID: agentID}
}

// jobs concatenates job lists.
func jobs(lists ...[]scaler.Job) []scaler.Job {
	var out []scaler.Job
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// targets lists the targets of steps, in order.
func targets(steps []scaler.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Target)
	}
	return out
}
