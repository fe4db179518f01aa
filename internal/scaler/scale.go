package scaler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// idleAgents decides which idle agents to drain. Candidates are ours, online, enabled, not busy,
// not a placeholder, not already draining, not reserved, and idle longer than IdleTimeout. A finished one-job
// agent among them is always drained (it is not supply). Of the others, oldest idle first, only
// as many as the ready agents exceed what the matching queued jobs, the waiting checks and Standby
// need, and never so
// many that fewer than Min instances stay live. live is the capacity left after terminations; it is
// returned less the drained agents that have an instance.
func (v *view) idleAgents(live int) ([]Step, int) {
	done, spare := v.done[:0], v.spare[:0]
	for i := range v.agents {
		a := &v.agents[i]
		if !a.Ours || a.Placeholder || !a.Online || !a.Enabled || v.isBusy(a) || v.isDraining(a) ||
			v.ambiguous[a.Name] || v.age(a.IdleSince) <= v.p.IdleTimeout {
			continue
		}
		if v.isDone(a) {
			done = append(done, a)
		} else if !v.reserved[a.Name] {
			spare = append(spare, a)
		}
	}
	v.done, v.spare = done, spare // their memory serves the next plan; release clears them
	var out []Step
	for _, a := range done {
		out = append(out, v.drainStep(a, fmt.Sprintf("one-job agent %q finished its job and has been idle %s (idle timeout %s)",
			a.Name, dur(v.age(a.IdleSince)), dur(v.p.IdleTimeout))))
		if v.hasInstance(a.Name) {
			live--
		}
	}

	need := v.queued + v.demands + v.p.Standby
	n := min(len(spare), v.ready-need, live-v.p.Min)
	if n > 0 {
		slices.SortFunc(spare, func(a, b *Agent) int {
			return cmp.Or(a.IdleSince.Compare(b.IdleSince), cmp.Compare(a.Name, b.Name))
		})
		// The numbers behind the choice are the same for every agent drained: format them once.
		checks := ""
		if v.demands > 0 {
			checks = ", " + plural(v.demands, "check") + " waiting"
		}
		why := fmt.Sprintf(" (idle timeout %s); %s for %s%s, %s, min %d with %d live: drain the %d idle longest",
			dur(v.p.IdleTimeout), plural(v.ready, "ready agent"), plural(v.queued, "matching queued job"),
			checks, plural(v.p.Standby, "standby agent"), v.p.Min, live, n)
		for _, a := range spare[:n] {
			out = append(out, v.drainStep(a, "idle "+dur(v.age(a.IdleSince))+why))
			if v.hasInstance(a.Name) {
				live--
			}
		}
	}
	slices.SortFunc(out, func(a, b Step) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.AgentID, b.AgentID))
	})
	return out, live
}

func (v *view) drainStep(a *Agent, reason string) Step {
	return Step{Action: ActionDrain, Target: a.Name, AgentID: a.ID, InstanceID: v.firstInstance(a.Name), Reason: reason}
}

// launches decides how many agents to start: enough for every matching queued job and waiting
// check plus Standby,
// less the supply (ready agents, starting instances, launches in flight), and at least enough to
// bring live up to Min; then capped so that capacity never exceeds Max, and by MaxLaunchPerCycle.
// live is the capacity left after this plan's terminations and drains.
func (v *view) launches(starting, live int) (int, string) {
	p := v.p
	need := v.queued + v.demands + p.Standby
	supply := v.ready + starting + v.launching
	want := max(need-supply, p.Min-live, 0)
	room := max(p.Max-v.capacity, 0)
	n := min(want, room)
	if p.MaxLaunchPerCycle > 0 {
		n = min(n, p.MaxLaunchPerCycle)
	}

	var b strings.Builder
	verb := "match"
	if v.queued == 1 {
		verb = "matches"
	}
	fmt.Fprintf(&b, "%s %s the pool", plural(v.queued, "queued job"), verb)
	if v.unmatched > 0 {
		fmt.Fprintf(&b, " (%d more not ours: demands not met)", v.unmatched)
	}
	if v.demands > 0 {
		fmt.Fprintf(&b, ", %s waiting", plural(v.demands, "check"))
	}
	if p.Standby > 0 {
		fmt.Fprintf(&b, ", standby %d", p.Standby)
	}
	fmt.Fprintf(&b, ", %s, %d starting", plural(v.ready, "idle agent"), starting+v.launching)
	if p.Min > 0 {
		fmt.Fprintf(&b, ", min %d with %d live", p.Min, live)
	}
	switch {
	case n < want && n == room:
		fmt.Fprintf(&b, ": want %d, capacity %d of max %d: launch %d", want, v.capacity, p.Max, n)
	case n < want:
		fmt.Fprintf(&b, ": want %d, at most %d per cycle: launch %d", want, p.MaxLaunchPerCycle, n)
	default:
		fmt.Fprintf(&b, ": launch %d", n)
	}
	return n, b.String()
}

// plural formats a count with its noun: "1 idle agent", "3 idle agents".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
