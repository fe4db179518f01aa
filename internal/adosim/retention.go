package adosim

import (
	"strings"
	"time"
)

// ForgetFinished removes the jobs that finished more than olderThan ago, with their plans, and
// returns them as they were last. The Org otherwise keeps every job it was given, which a long run
// (the demo's soak) would see as the process growing; a job an agent still points at (its current
// or last completed one) is kept, as is the plan of any job kept.
func (o *Org) ForgetFinished(olderThan time.Duration) []JobInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	cutoff := o.clock.Now().Add(-olderThan)
	pinned := map[int64]bool{}
	for _, a := range o.agents {
		pinned[a.assigned], pinned[a.lastCompleted] = true, true
	}
	var out []JobInfo
	forgotten := map[string]bool{}
	for id, j := range o.jobs {
		if !j.finished() || pinned[id] || !j.finishTime.Before(cutoff) || o.checking[id] != nil {
			continue
		}
		out = append(out, o.jobInfoLocked(j))
		delete(o.jobs, id)
		forgotten[strings.ToLower(j.planID)] = true
	}
	if len(forgotten) > 0 {
		for _, j := range o.jobs { // a plan shared with a job still kept stays
			delete(forgotten, strings.ToLower(j.planID))
		}
		for planID := range forgotten {
			delete(o.plans, planID)
		}
	}
	return out
}
