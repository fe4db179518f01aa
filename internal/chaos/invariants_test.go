package chaos

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/store"
)

// maxWait bounds how long a job may wait while faults are on before it counts as lost. The
// pools spend bursts at max and launches fail often, so it is generous; after recovery every job
// must have run.
const maxWait = 3 * time.Hour

// checkCycle checks the invariants that must hold after every cycle of pool p.
func (w *world) checkCycle(p poolSpec) {
	w.checkMax(p.name, "end of cycle")
	w.checkJobs(p.name)
}

// checkMax: the pool never exceeds max, counting instances still starting.
func (w *world) checkMax(pool, when string) {
	max := w.policy[pool].Max
	if n := w.prov.Running(pool); n > max {
		w.violate("pool %s above max at %s: %d live instances, max %d:\n%s", pool, when, n, max, w.liveInstances(pool))
	}
}

// checkJobs: no job of pool lost. A job ADO failed, that ran twice or that waits past maxWait
// is lost; a job whose agent the cloud took away was failed by the test and queued again.
func (w *world) checkJobs(pool string) {
	now := time.Now()
	for _, wk := range w.works {
		if wk.done || wk.pool != pool {
			continue
		}
		info, ok := w.org.Job(wk.req)
		if ok && w.isChecked(pool) && failedByCheck(info) {
			w.checks.retried++
			w.requeue(wk, "its check failed: "+info.StatusMessage)
			continue
		}
		switch {
		case !ok:
			w.violate("job %d: request %d vanished from ADO", wk.n, wk.req)
		case info.State == adosim.JobFinished && !w.failedByLoss[wk.req]:
			w.violate("job %d lost: request %d finished %q (%s) without running to the end", wk.n, wk.req, info.Result, info.StatusMessage)
		case info.Starts > 1:
			w.violate("job %d: request %d was delivered %d times (its agent was removed while running it)", wk.n, wk.req, info.Starts)
		case w.inj.Enabled() && now.Sub(wk.queued) > maxWait:
			w.violate("job %d lost: request %d queued for %s", wk.n, wk.req, now.Sub(wk.queued))
		}
		if len(w.broken()) > 0 {
			return
		}
	}
}

// disagreements lists where ADO, the provider and the store disagree about pool p, or where it
// has not scaled back in, once no job is left: every live instance has a registered, online,
// enabled agent and a live record; every agent (but the placeholder) has a live instance and a
// record; every live record has both; only the standby agents are left; no job is open.
func (w *world) disagreements(p poolSpec) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, p.name+": "+fmt.Sprintf(format, args...)) }
	placeholder := controller.PlaceholderName(p.name)
	agents := map[string]adosim.AgentInfo{}
	for _, a := range w.org.Agents(p.name) {
		agents[a.Name] = a
	}
	recs, err := w.st.ListAgents(w.ctx, p.name)
	if err != nil {
		return []string{fmt.Sprintf("%s: list store records: %v", p.name, err)}
	}
	live := map[string]store.AgentRecord{}
	for _, r := range recs {
		if r.State != store.StateGone {
			live[r.Name] = r
		}
	}
	insts := map[string]string{} // agent name -> live instance id
	for _, in := range w.prov.Instances() {
		if in.Pool != p.name || !in.State.Alive() {
			continue
		}
		if other, dup := insts[in.AgentName]; dup {
			add("agent %s has two live instances, %s and %s", in.AgentName, other, in.ID)
		}
		insts[in.AgentName] = in.ID
		a, ok := agents[in.AgentName]
		switch {
		case !ok:
			add("orphan instance %s: no agent %s in ADO", in.ID, in.AgentName)
		case !a.Online || !a.Enabled:
			add("instance %s: its agent %s is online=%v enabled=%v", in.ID, in.AgentName, a.Online, a.Enabled)
		}
		if _, ok := live[in.AgentName]; !ok {
			add("instance %s: no live store record for agent %s", in.ID, in.AgentName)
		}
	}
	for name, a := range agents {
		if name == placeholder {
			if a.Online {
				add("the placeholder agent is online")
			}
			continue
		}
		if _, ok := insts[name]; !ok {
			add("orphan agent %s (%s): no live instance", name, a.State)
		}
		if _, ok := live[name]; !ok {
			add("agent %s: no live store record", name)
		}
		if a.AssignedRequest != 0 {
			add("agent %s still holds request %d (%s)", name, a.AssignedRequest, w.describe(name))
		}
	}
	if _, ok := agents[placeholder]; !ok {
		add("the placeholder agent is missing")
	}
	for name, r := range live {
		if _, ok := insts[name]; !ok {
			add("store record %s (%s) has no live instance", name, r.State)
		}
		if _, ok := agents[name]; !ok {
			add("store record %s (%s) has no agent in ADO", name, r.State)
		}
	}
	if n, want := len(insts), w.policy[p.name].Standby; n != want {
		add("%d live instances after recovery, want the standby %d", n, want)
	}
	for _, wk := range w.works {
		if !wk.done && wk.pool == p.name {
			add("job %d (request %d) has not run", wk.n, wk.req)
		}
	}
	slices.Sort(out)
	return out
}

// liveInstances describes the pool's live instances with their agent and record, for messages.
func (w *world) liveInstances(pool string) string {
	var lines []string
	for _, in := range w.prov.Instances() {
		if in.Pool != pool || !in.State.Alive() {
			continue
		}
		rec, err := w.st.GetAgent(w.ctx, in.AgentName)
		recState := string(rec.State) + " " + rec.Reason
		if err != nil {
			recState = err.Error()
		}
		info, inADO := w.orgAgent(pool, in.AgentName)
		lines = append(lines, fmt.Sprintf("    %s %s (%s, launched %s): ADO %v/%s, record %s", in.ID, in.AgentName, in.State,
			in.LaunchedAt.UTC().Format(time.TimeOnly), inADO, info.State, recState))
	}
	return strings.Join(lines, "\n")
}

// describe is the test's view of agent name's process, for messages.
func (w *world) describe(name string) string {
	a := w.agents[name]
	if a == nil {
		return "no agent process"
	}
	return fmt.Sprintf("process %s on instance %s, job %d, finishing at %s", [...]string{"booting", "idle", "busy", "gone"}[a.state],
		a.instID, a.job.RequestID, a.finishAt.UTC().Format(time.TimeOnly))
}

// recover runs up to steps cycles with the faults off and no new jobs, until every pool agrees.
// It returns the cycles it took, or the last disagreements.
func (w *world) recover(steps int) (int, []string) {
	var last []string
	for i := range steps {
		w.cycle(i, false)
		if len(w.broken()) > 0 {
			return i + 1, nil
		}
		last = nil
		for _, p := range w.pools {
			last = append(last, w.disagreements(p)...)
		}
		if len(last) == 0 {
			last = w.settleChecks()
		}
		if len(last) == 0 {
			return i + 1, nil
		}
	}
	return steps, last
}

// ring keeps the last lines written to it: the controller's log and the test's own notes, shown
// when the test fails.
type ring struct {
	mu    sync.Mutex // the controllers' goroutines and the test write to it
	lines []string
	next  int
	full  bool
}

func newRing(n int) *ring { return &ring{lines: make([]string, n)} }

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		r.lines[r.next] = line
		r.next = (r.next + 1) % len(r.lines)
		r.full = r.full || r.next == 0
	}
	return len(p), nil
}

func (r *ring) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines[:r.next]
	if r.full {
		out = append(slices.Clone(r.lines[r.next:]), r.lines[:r.next]...)
	}
	return strings.Join(out, "\n")
}
