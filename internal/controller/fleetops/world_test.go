package fleetops

import (
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// The hand-built pool "build" of controller "c1" the plan and status tests read:
//   - the placeholder (offline);
//   - build-busy: online, assigned request 41, instance i-busy;
//   - build-res: online, reserved by unfinished request 42 only, instance i-res (found by its
//     agent tag), record draining;
//   - build-idle: online, idle, instance i-idle;
//   - build-drain: online but disabled, instance i-drain;
//   - build-off: offline, its record names instance i-offgone that no longer exists;
//   - build-offinst: offline, its instance i-offinst still runs;
//   - someone: offline, no record, no instance (not adofleet's);
//   - theirs: online, on instance i-theirs that controller c2 tagged (not adofleet's here);
//   - instance i-orphan whose agent build-orph never registered (record launched);
//   - record build-lost, whose instance i-ended has ended and whose agent is gone;
//   - record build-new, launching, no instance yet; record build-done, gone (history).
const (
	worldPool       = "build"
	worldController = "c1"
)

var worldPlaceholder = controller.PlaceholderName(worldPool)

// world returns the observation of the pool at now: the orphan launched five minutes ago, the
// launching record created one minute ago.
func world(now time.Time) Observation {
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	done := "succeeded"
	inst := func(id, agent, controllerID string, st provider.State) provider.Instance {
		return provider.Instance{ID: id, Pool: worldPool, AgentName: agent, State: st,
			Tags: provider.TagsFor(worldPool, controllerID, agent, ""), LaunchedAt: now.Add(-5 * time.Minute)}
	}
	res := inst("i-res", "build-res", worldController, provider.StateRunning)
	res.AgentName = "" // found by its agent tag
	rec := func(name string, st store.AgentState, instanceID string, age time.Duration) store.AgentRecord {
		return store.AgentRecord{Name: name, Pool: worldPool, State: st, InstanceID: instanceID,
			CreatedAt: now.Add(-age), UpdatedAt: now.Add(-age)}
	}
	return Observation{
		Pool: worldPool, PoolID: 7, ControllerID: worldController,
		Agents: []ado.Agent{
			{ID: 1, Name: worldPlaceholder, Status: ado.AgentOffline, Enabled: true},
			{ID: 2, Name: "build-busy", Status: ado.AgentOnline, Enabled: true,
				AssignedRequest: &ado.JobRequest{RequestID: 41, AssignTime: at(-2 * time.Minute)}},
			{ID: 3, Name: "build-res", Status: ado.AgentOnline, Enabled: true},
			{ID: 4, Name: "build-idle", Status: ado.AgentOnline, Enabled: true},
			{ID: 5, Name: "build-drain", Status: ado.AgentOnline, Enabled: false},
			{ID: 6, Name: "build-off", Status: ado.AgentOffline, Enabled: true},
			{ID: 7, Name: "build-offinst", Status: ado.AgentOffline, Enabled: true},
			{ID: 8, Name: "someone", Status: ado.AgentOffline, Enabled: true},
			{ID: 9, Name: "theirs", Status: ado.AgentOnline, Enabled: true},
		},
		Jobs: []ado.JobRequest{
			{RequestID: 41, AssignTime: at(-2 * time.Minute), ReservedAgent: &ado.AgentRef{ID: 2}},
			{RequestID: 42, ReceiveTime: at(-time.Minute), ReservedAgent: &ado.AgentRef{ID: 3}},
			{RequestID: 43},
			{RequestID: 44, Result: &done, ReservedAgent: &ado.AgentRef{ID: 4}}, // finished: idle stays idle
		},
		Instances: []provider.Instance{
			inst("i-busy", "build-busy", worldController, provider.StateRunning),
			res,
			inst("i-idle", "build-idle", worldController, provider.StateRunning),
			inst("i-drain", "build-drain", worldController, provider.StatePending),
			inst("i-offinst", "build-offinst", worldController, provider.StateRunning),
			inst("i-orphan", "build-orph", worldController, provider.StateRunning),
			inst("i-theirs", "theirs", "c2", provider.StateRunning),
			inst("i-ended", "build-lost", worldController, provider.StateTerminated),
		},
		Records: []store.AgentRecord{
			rec("build-busy", store.StateRegistered, "i-busy", time.Hour),
			rec("build-res", store.StateDraining, "i-res", time.Hour),
			rec("build-idle", store.StateRegistered, "i-idle", time.Hour),
			rec("build-off", store.StateRegistered, "i-offgone", time.Hour),
			rec("build-offinst", store.StateRegistered, "i-offinst", time.Hour),
			rec("build-orph", store.StateLaunched, "i-orphan", 5*time.Minute),
			rec("build-lost", store.StateRegistered, "i-ended", time.Hour),
			rec("build-new", store.StateLaunching, "", time.Minute),
			rec("build-done", store.StateGone, "i-old", time.Hour),
		},
	}
}
