package scaler

import (
	"fmt"
	"slices"
)

// orphanInstances decides which live instances to terminate and counts the ones still starting
// (alive, agent not online yet, within the registration timeout), which are supply for launches.
//
// Terminated: an instance with no agent of its name after RegistrationTimeout; an instance whose
// agent registered but is offline (not busy, not finished) after RegistrationTimeout; and the
// lingering instance of a finished one-job agent offline for longer than FinishedGrace. Never an
// instance whose agent is busy, a placeholder, being drained, or whose name is ambiguous.
func (v *view) orphanInstances() (terminate []Step, starting int) {
	type pick struct {
		i      int // into v.instances
		reason string
	}
	var picked []pick
	for i, in := range v.instances {
		isStarting, reason := v.classifyInstance(in)
		if isStarting {
			starting++
		}
		if reason != "" {
			picked = append(picked, pick{i, reason})
		}
	}
	// The snapshot's order is the provider's: the steps come in compareInstances order.
	slices.SortFunc(picked, func(a, b pick) int { return compareInstances(&v.instances[a.i], &v.instances[b.i]) })
	for _, p := range picked {
		in := v.instances[p.i]
		step := Step{Action: ActionTerminate, Target: in.ID, InstanceID: in.ID, Reason: p.reason}
		if a, _ := v.agentOf(in); a != nil {
			step.AgentID = a.ID
		}
		terminate = append(terminate, step)
	}
	return terminate, starting
}

// classifyInstance says whether an instance is starting, or why it should be terminated ("" to
// keep it).
func (v *view) classifyInstance(in Instance) (starting bool, terminateReason string) {
	a, ambiguous := v.agentOf(in)
	age, limit := v.age(in.LaunchedAt), v.p.RegistrationTimeout
	switch {
	case ambiguous:
		return false, ""
	case a == nil && age > limit:
		return false, fmt.Sprintf("no agent named %q registered %s after launch (registration timeout %s)",
			in.AgentName, dur(age), dur(limit))
	case a == nil:
		return true, ""
	case a.Placeholder || v.isBusy(a) || v.isDraining(a) || a.Online:
		return false, ""
	case v.isDone(a):
		since := a.IdleSince
		if since.IsZero() {
			since = in.LaunchedAt
		}
		if off := v.age(since); off > FinishedGrace {
			return false, fmt.Sprintf("one-job agent %q finished its job and is offline; instance still alive %s later (grace %s)",
				a.Name, dur(off), dur(FinishedGrace))
		}
		return false, ""
	case age > limit:
		return false, fmt.Sprintf("agent %q registered but is offline %s after launch (registration timeout %s)",
			a.Name, dur(age), dur(limit))
	default:
		return true, ""
	}
}

// staleAgents decides which agents to delete from ADO: ours, offline, not busy, not a placeholder,
// not being drained, and either finished (one-job) or without a live instance. An agent registered
// less than NewAgentGrace ago keeps its place until the provider lists its instance.
func (v *view) staleAgents() []Step {
	var out []Step
	for i := range v.agents {
		a := &v.agents[i]
		if !a.Ours || a.Placeholder || a.Online || v.isBusy(a) || v.isDraining(a) {
			continue
		}
		var reason string
		switch {
		case v.isDone(a):
			reason = fmt.Sprintf("one-job agent %q finished its job and is offline", a.Name)
		case v.hasInstance(a.Name):
			continue
		case !a.CreatedOn.IsZero() && v.age(a.CreatedOn) < NewAgentGrace:
			continue
		default:
			reason = fmt.Sprintf("agent %q was created by adofleet, is offline and has no live instance", a.Name)
		}
		out = append(out, Step{Action: ActionDelete, Target: a.Name, AgentID: a.ID, Reason: reason})
	}
	return out
}
