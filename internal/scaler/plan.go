package scaler

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// FinishedGrace is how long the instance of a finished one-job agent may stay alive after the
// agent went idle and offline before it is terminated: long enough for the agent to upload its last
// logs and the process or container to exit by itself, short enough that a stuck instance does not
// hold a licence slot for long.
const FinishedGrace = 2 * time.Minute

// NewAgentGrace protects a freshly registered offline agent from the stale-agent rule: providers
// list a new instance with some delay (eventually consistent APIs), and an agent that registered
// before its instance shows up must not be deleted for "having no instance".
const NewAgentGrace = time.Minute

// Plan decides what to do for one pool at time now. It is pure: the same arguments always give the
// same Actions, every list sorted by agent name or instance id. The rules, one function each:
// orphanInstances, staleAgents, idleAgents, launches (see doc.go).
func Plan(s Snapshot, p Policy, now time.Time) Actions {
	var pl Planner
	return pl.Plan(s, p, now)
}

// Planner is Plan with memory: its indexes of the snapshot are kept from one call to the next, so
// a controller planning every pool every cycle does not rebuild them from fresh allocations. It
// plans exactly as Plan does, whatever it planned before. The zero value is ready; not safe for
// concurrent use.
type Planner struct{ v view }

// Plan is Plan, reusing the planner's memory. The Actions it returns share nothing with the
// planner or the snapshot's slices, and the planner keeps no reference to s once it returns.
func (pl *Planner) Plan(s Snapshot, p Policy, now time.Time) Actions {
	v := &pl.v
	v.reset(s, p, now)
	defer v.release()
	terminate, starting := v.orphanInstances()
	live := v.capacity - len(terminate)
	drain, live := v.idleAgents(live)
	launch, reason := v.launches(starting, live)
	return Actions{
		Launch:       launch,
		LaunchReason: reason,
		Drain:        drain,
		DeleteAgents: v.staleAgents(),
		Terminate:    terminate,
	}
}

// view is the snapshot indexed once for the rules: agents and instances sorted, agents by name,
// instances by agent name, and the queued jobs that match the pool counted. A Planner keeps its
// view between calls: reset fills it, release empties it (keeping the memory).
type view struct {
	p   Policy
	now time.Time

	agents    []Agent           // sorted by name, then id
	instances []Instance        // in the snapshot's order
	byName    map[string]int    // agent name -> index in agents
	ambiguous map[string]bool   // names held by more than one agent: no instance rule touches them
	instOf    map[string]int    // agent name -> index in instances of its lowest (compareInstances)
	assigned  map[int]bool      // agent ids that hold a job in the snapshot
	draining  map[string]bool   // from the snapshot
	launching int               // Snapshot.Launching, never negative
	capacity  int               // live instances + launching: what counts against Max
	queued    int               // queued jobs whose demands the pool satisfies
	demands   int               // Snapshot.Demands, never negative: check requests waiting
	reserved  map[string]bool   // from the snapshot
	unmatched int               // queued jobs whose demands it does not (not ours)
	ready     int               // ready agents (see isReady), ours or not
	folded    map[string]string // Policy.Capabilities keyed by lower-cased name

	done, spare []*Agent // idleAgents' candidates, into agents
}

// reset indexes s for one plan. Every field is set or emptied here: nothing of an earlier plan
// survives into this one.
func (v *view) reset(s Snapshot, p Policy, now time.Time) {
	if c := max(cap(v.agents), cap(v.instances)); c > 1024 && c > 4*max(len(s.Agents), len(s.Instances)) {
		*v = view{} // sized for a far larger snapshot: let that memory go rather than keep it
	}
	v.p, v.now = p, now
	// Copies: the sorts below must not reorder the caller's slices.
	v.agents = append(v.agents[:0], s.Agents...)
	v.instances = append(v.instances[:0], s.Instances...)
	v.byName = emptied(v.byName, len(s.Agents))
	v.ambiguous = emptied(v.ambiguous, 0)
	v.instOf = emptied(v.instOf, len(s.Instances))
	v.assigned = emptied(v.assigned, 0)
	v.draining, v.reserved = s.Draining, s.Reserved
	v.demands = max(s.Demands, 0)
	v.launching = max(s.Launching, 0)
	v.queued, v.unmatched, v.ready = 0, 0, 0
	v.folded = emptied(v.folded, len(p.Capabilities))
	foldInto(v.folded, p.Capabilities)
	v.done, v.spare = v.done[:0], v.spare[:0]

	v.capacity = len(v.instances) + v.launching
	// The comparison is chained by hand: cmp.Or would evaluate both for every pair.
	slices.SortFunc(v.agents, func(a, b Agent) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for i, a := range v.agents {
		if _, dup := v.byName[a.Name]; dup {
			v.ambiguous[a.Name] = true
		}
		v.byName[a.Name] = i
	}
	// The instances stay in the snapshot's order: sorting them for every pool every cycle was a
	// tenth of a fleet cycle's planning. What the plan takes from them is found without an order
	// (the lowest instance per name here) or put in order where it is output (orphanInstances).
	for i := range v.instances {
		in := &v.instances[i]
		if j, seen := v.instOf[in.AgentName]; !seen || compareInstances(in, &v.instances[j]) < 0 {
			v.instOf[in.AgentName] = i
		}
	}
	for _, j := range s.Jobs {
		switch {
		case j.AgentID != 0:
			v.assigned[j.AgentID] = true
		case satisfies(v.folded, j.Demands):
			v.queued++
		default:
			v.unmatched++
		}
	}
	for i := range v.agents {
		if v.isReady(&v.agents[i]) {
			v.ready++
		}
	}
}

// release drops every reference the view holds into the snapshot (names, its maps) so a kept
// Planner does not keep the last snapshot alive; the slices and maps keep their memory.
func (v *view) release() {
	clear(v.agents)
	clear(v.instances)
	clear(v.byName)
	clear(v.ambiguous)
	clear(v.instOf)
	clear(v.assigned)
	clear(v.folded)
	clear(v.done)
	clear(v.spare)
	v.agents, v.instances = v.agents[:0], v.instances[:0]
	v.done, v.spare = v.done[:0], v.spare[:0]
	v.draining, v.reserved = nil, nil
	v.p = Policy{}
}

// emptied returns m cleared, or a new map sized for n if there is none yet.
func emptied[K comparable, V any](m map[K]V, n int) map[K]V {
	if m == nil {
		return make(map[K]V, n)
	}
	clear(m)
	return m
}

// isBusy: the agent holds a request, by its own flag or because a job in the snapshot names it.
func (v *view) isBusy(a *Agent) bool { return a.Busy || v.assigned[a.ID] }

// isDone: a one-job agent that has run its job; it will not take another.
func (v *view) isDone(a *Agent) bool { return v.p.OneJobPerAgent && a.Finished }

// isDraining: the controller is already draining it; the drain protocol owns it.
func (v *view) isDraining(a *Agent) bool { return v.draining[a.Name] }

// isReady: an agent ADO could hand a queued job to right now. Ours or not: any such agent in the
// pool is supply.
func (v *view) isReady(a *Agent) bool {
	return !a.Placeholder && a.Online && a.Enabled && !v.isBusy(a) && !v.isDraining(a) && !v.isDone(a)
}

// agentOf returns the one agent an instance belongs to, or nil; ambiguous reports a name held by
// several agents, which no rule acts on.
func (v *view) agentOf(in Instance) (a *Agent, ambiguous bool) {
	if v.ambiguous[in.AgentName] {
		return nil, true
	}
	i, ok := v.byName[in.AgentName]
	if !ok {
		return nil, false
	}
	return &v.agents[i], false
}

// firstInstance returns the lowest instance id running the named agent, or "".
func (v *view) firstInstance(name string) string {
	if i, ok := v.instOf[name]; ok {
		return v.instances[i].ID
	}
	return ""
}

// hasInstance reports whether a live instance runs the named agent.
func (v *view) hasInstance(name string) bool {
	_, ok := v.instOf[name]
	return ok
}

// age is how long ago t was.
func (v *view) age(t time.Time) time.Duration { return v.now.Sub(t) }

// dur formats a duration for a reason, to the second.
func dur(d time.Duration) string { return d.Round(time.Second).String() }

// compareInstances orders instances by id, then agent name and launch time: the order in which
// the plan names them.
func compareInstances(a, b *Instance) int {
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := strings.Compare(a.AgentName, b.AgentName); c != 0 {
		return c
	}
	return a.LaunchedAt.Compare(b.LaunchedAt)
}
