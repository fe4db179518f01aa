package scaler_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/scaler"
)

// propertyCases is how many random snapshots each run checks.
const propertyCases = 5000

// TestPlanProperties checks the DESIGN.md invariants on random snapshots. The seed is random per
// run and logged; SCALER_SEED=<n> replays a run.
func TestPlanProperties(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SCALER_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SCALER_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay with SCALER_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	// One planner for every case: each plan must ignore whatever the previous snapshots left in
	// its memory.
	var reused scaler.Planner
	for i := range propertyCases {
		s, p := randomSnapshot(r), randomPolicy(r)
		before := cloneSnapshot(s)
		got := scaler.Plan(s, p, now)
		if again := reused.Plan(s, p, now); !reflect.DeepEqual(got, again) {
			t.Errorf("seed %d case %d: a reused Planner planned differently from Plan:\n%s", seed, i, cmp.Diff(got, again))
		}
		for _, err := range checkInvariants(s, p, got) {
			t.Errorf("seed %d case %d: %v\nsnapshot %+v\npolicy %+v\nplan %+v", seed, i, err, s, p, got)
		}
		// reflect.DeepEqual: cmp is far slower, and these run thousands of times; cmp explains a failure.
		if !reflect.DeepEqual(before, s) {
			t.Errorf("seed %d case %d: Plan changed its input (-before +after):\n%s", seed, i, cmp.Diff(before, s))
		}
		if again := scaler.Plan(s, p, now); !reflect.DeepEqual(got, again) {
			t.Errorf("seed %d case %d: same input, different plan:\n%s", seed, i, cmp.Diff(got, again))
		}
		if shuffled := scaler.Plan(shuffle(r, s), p, now); !reflect.DeepEqual(got, shuffled) {
			t.Errorf("seed %d case %d: input order changed the plan:\n%s", seed, i, cmp.Diff(got, shuffled))
		}
		if t.Failed() {
			return
		}
	}
}

// checkInvariants returns every invariant the plan breaks. It recomputes what it needs from the
// snapshot by the definitions in DESIGN.md and the policy comments, not by calling the scaler.
func checkInvariants(s scaler.Snapshot, p scaler.Policy, a scaler.Actions) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	assigned := map[int]bool{}
	for _, j := range s.Jobs {
		if j.AgentID != 0 {
			assigned[j.AgentID] = true
		}
	}
	byID := map[int]scaler.Agent{}
	busyName, onlineName := map[string]bool{}, map[string]bool{}
	ready := 0
	for _, ag := range s.Agents {
		byID[ag.ID] = ag
		busy := ag.Busy || assigned[ag.ID]
		busyName[ag.Name] = busyName[ag.Name] || busy
		onlineName[ag.Name] = onlineName[ag.Name] || ag.Online
		if !ag.Placeholder && ag.Online && ag.Enabled && !busy && !s.Draining[ag.Name] && !(p.OneJobPerAgent && ag.Finished) {
			ready++
		}
	}
	instName := map[string]string{}
	notOnline := 0 // instances with no online agent: an upper bound on starting ones
	for _, in := range s.Instances {
		instName[in.ID] = in.AgentName
		if !onlineName[in.AgentName] {
			notOnline++
		}
	}
	matching := 0
	for _, j := range s.Jobs {
		if j.AgentID == 0 && scaler.Satisfies(p.Capabilities, j.Demands) {
			matching++
		}
	}

	// Never above max, counting starting instances; never more than the demand asks for.
	capacity := len(s.Instances) + s.Launching
	if a.Launch < 0 {
		fail("Launch = %d, want >= 0", a.Launch)
	}
	if capacity <= p.Max && capacity+a.Launch > p.Max {
		fail("capacity %d + launch %d > max %d", capacity, a.Launch, p.Max)
	}
	if capacity > p.Max && a.Launch > 0 {
		fail("capacity %d already above max %d, yet launch %d", capacity, p.Max, a.Launch)
	}
	if p.MaxLaunchPerCycle > 0 && a.Launch > p.MaxLaunchPerCycle {
		fail("launch %d > MaxLaunchPerCycle %d", a.Launch, p.MaxLaunchPerCycle)
	}
	demands := max(s.Demands, 0)
	if limit := max(matching+demands+p.Standby, p.Min); a.Launch > limit {
		fail("launch %d > max(matching %d + demands %d + standby %d, min %d)", a.Launch, matching, demands, p.Standby, p.Min)
	}
	// Launches for every matching queued job the supply does not cover, when capacity allows.
	if capacity <= p.Max {
		floor := min(matching+demands-(ready+notOnline+s.Launching), p.Max-capacity)
		if p.MaxLaunchPerCycle > 0 {
			floor = min(floor, p.MaxLaunchPerCycle)
		}
		if a.Launch < floor {
			fail("launch %d < %d (matching %d + demands %d, ready %d, starting at most %d, launching %d, room %d)",
				a.Launch, floor, matching, demands, ready, notOnline, s.Launching, p.Max-capacity)
		}
	}
	if a.LaunchReason == "" {
		fail("empty LaunchReason")
	}

	// Drain: ours, not busy (nor any agent of that name), never a placeholder, never draining,
	// never reserved unless it finished its one job; and the ready agents left still cover the
	// matching queued jobs, the waiting checks and Standby.
	readyDrained := 0
	for _, st := range a.Drain {
		if ag, ok := byID[st.AgentID]; ok && !(p.OneJobPerAgent && ag.Finished) {
			readyDrained++
			if s.Reserved[ag.Name] {
				fail("drain %+v: agent is reserved by a check", st)
			}
		}
		ag, ok := byID[st.AgentID]
		switch {
		case !ok || ag.Name != st.Target:
			fail("drain %+v: no such agent", st)
		case busyName[ag.Name]:
			fail("drain %+v: agent is busy", st)
		case ag.Placeholder || !ag.Ours || s.Draining[ag.Name]:
			fail("drain %+v: placeholder %v, ours %v, draining %v", st, ag.Placeholder, ag.Ours, s.Draining[ag.Name])
		case st.InstanceID != "" && instName[st.InstanceID] != ag.Name:
			fail("drain %+v: instance is not the agent's", st)
		}
	}
	if readyDrained > 0 && ready-readyDrained < matching+demands+p.Standby {
		fail("drained %d ready agents of %d, leaving fewer than matching %d + demands %d + standby %d",
			readyDrained, ready, matching, demands, p.Standby)
	}
	// Delete: ours, offline, not busy, never a placeholder.
	for _, st := range a.DeleteAgents {
		ag, ok := byID[st.AgentID]
		switch {
		case !ok || ag.Name != st.Target:
			fail("delete %+v: no such agent", st)
		case ag.Busy || assigned[ag.ID] || ag.Online || ag.Placeholder || !ag.Ours:
			fail("delete %+v: busy %v, online %v, placeholder %v, ours %v", st, ag.Busy || assigned[ag.ID], ag.Online, ag.Placeholder, ag.Ours)
		}
	}
	// Terminate: never the instance of a busy agent.
	for _, st := range a.Terminate {
		name, ok := instName[st.InstanceID]
		switch {
		case !ok || st.Target != st.InstanceID:
			fail("terminate %+v: no such instance", st)
		case busyName[name]:
			fail("terminate %+v: instance of busy agent %q", st, name)
		}
	}
	// Every step has its action, a target, a reason; nothing planned twice (agents are keyed by id:
	// names are unique in ADO, but the generator repeats some).
	for action, steps := range map[string][]scaler.Step{
		scaler.ActionDrain: a.Drain, scaler.ActionDelete: a.DeleteAgents, scaler.ActionTerminate: a.Terminate,
	} {
		seen := map[string]bool{}
		for _, st := range steps {
			if st.Action != action || st.Target == "" || st.Reason == "" {
				fail("step %+v: want action %q, a target and a reason", st, action)
			}
			key := st.InstanceID
			if action != scaler.ActionTerminate {
				key = strconv.Itoa(st.AgentID)
			}
			if seen[key] {
				fail("step %+v: planned twice", st)
			}
			seen[key] = true
		}
	}
	for _, d := range a.Drain {
		for _, x := range a.DeleteAgents {
			if d.AgentID == x.AgentID {
				fail("agent %d both drained and deleted", d.AgentID)
			}
		}
	}
	return errs
}

// demandPool mixes demands the test policy's capabilities meet and demands they do not.
var demandPool = []string{
	"docker", "Agent.OS -equals Linux", "agent.os -equals LINUX", "Agent.Version -gtVersion 2.163.1",
	"Agent.OS -equals Windows_NT", "gpu", "Agent.Version -gtVersion 9.0", "docker -bogus x",
}

func randomPolicy(r *rand.Rand) scaler.Policy {
	return scaler.Policy{
		Min:                 r.IntN(5),
		Max:                 r.IntN(40),
		Standby:             r.IntN(4),
		IdleTimeout:         time.Duration(r.IntN(20)) * time.Minute,
		RegistrationTimeout: time.Duration(r.IntN(20)) * time.Minute,
		OneJobPerAgent:      r.IntN(2) == 0,
		Capabilities:        map[string]string{"Agent.OS": "Linux", "docker": "", "Agent.Version": "3.248.0"},
		MaxLaunchPerCycle:   r.IntN(6),
	}
}

// randomSnapshot draws agents with unique ids (names mostly unique: some repeat, as a misbehaving
// pool could), instances for known and unknown names, queued and assigned jobs. Times are whole
// minutes before now, so that ages often land exactly on a timeout.
func randomSnapshot(r *rand.Rand) scaler.Snapshot {
	ago := func(maxMin int) time.Time { return now.Add(-time.Duration(r.IntN(maxMin+1)) * time.Minute) }
	chance := func(pct int) bool { return r.IntN(100) < pct }
	s := scaler.Snapshot{Pool: "p", Launching: r.IntN(6), Draining: map[string]bool{},
		Demands: r.IntN(8) - 1, Reserved: map[string]bool{}}
	for i := range r.IntN(30) {
		name := fmt.Sprintf("a%02d", i)
		if i > 0 && chance(5) {
			name = s.Agents[r.IntN(len(s.Agents))].Name
		}
		s.Agents = append(s.Agents, scaler.Agent{
			ID: 100 + i, Name: name, Online: chance(60), Enabled: chance(85), Busy: chance(30),
			Ours: chance(85), Placeholder: chance(8), Finished: chance(25),
			IdleSince: ago(30), CreatedOn: ago(120),
		})
		if chance(15) {
			s.Draining[name] = true
		}
		if chance(10) {
			s.Reserved[name] = true
		}
	}
	for i := range r.IntN(30) {
		name := fmt.Sprintf("n%02d", i) // no such agent
		if len(s.Agents) > 0 && chance(70) {
			name = s.Agents[r.IntN(len(s.Agents))].Name
		}
		s.Instances = append(s.Instances, scaler.Instance{ID: fmt.Sprintf("i%03d", i), AgentName: name, LaunchedAt: ago(30)})
	}
	for i := range r.IntN(30) {
		j := scaler.Job{ID: int64(1000 + i), QueueTime: ago(30)}
		for range r.IntN(3) {
			j.Demands = append(j.Demands, demandPool[r.IntN(len(demandPool))])
		}
		if len(s.Agents) > 0 && chance(30) {
			j.AgentID = s.Agents[r.IntN(len(s.Agents))].ID
		}
		s.Jobs = append(s.Jobs, j)
	}
	return s
}

// shuffle returns a copy of s with its lists in another order.
func shuffle(r *rand.Rand, s scaler.Snapshot) scaler.Snapshot {
	c := cloneSnapshot(s)
	r.Shuffle(len(c.Agents), func(i, j int) { c.Agents[i], c.Agents[j] = c.Agents[j], c.Agents[i] })
	r.Shuffle(len(c.Instances), func(i, j int) { c.Instances[i], c.Instances[j] = c.Instances[j], c.Instances[i] })
	r.Shuffle(len(c.Jobs), func(i, j int) { c.Jobs[i], c.Jobs[j] = c.Jobs[j], c.Jobs[i] })
	return c
}

func cloneSnapshot(s scaler.Snapshot) scaler.Snapshot {
	c := s
	c.Agents = append([]scaler.Agent(nil), s.Agents...)
	c.Instances = append([]scaler.Instance(nil), s.Instances...)
	c.Jobs = append([]scaler.Job(nil), s.Jobs...)
	c.Draining = map[string]bool{}
	for k, v := range s.Draining {
		c.Draining[k] = v
	}
	c.Reserved = map[string]bool{}
	for k, v := range s.Reserved {
		c.Reserved[k] = v
	}
	return c
}

// TestPlannerReuseAcrossSizes plans a large pool, then small ones, then the large one again with
// one Planner: each plan equals Plan's, whether the planner kept its memory or let it go.
func TestPlannerReuseAcrossSizes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	big := bigSnapshot()
	p := with(func(p *scaler.Policy) { p.Max = 12_000; p.Min = 10; p.Standby = 5 })
	snaps := []scaler.Snapshot{big, randomSnapshot(r), randomSnapshot(r), big, {Pool: "empty"}, big}
	var pl scaler.Planner
	for i, s := range snaps {
		want := scaler.Plan(s, p, now)
		if got := pl.Plan(s, p, now); !reflect.DeepEqual(want, got) {
			t.Errorf("plan %d of a reused Planner differs from Plan (-Plan +Planner):\n%s", i, cmp.Diff(want, got))
		}
	}
}
