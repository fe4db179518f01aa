package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/controller"
)

// Policy is how a pool is scaled in a run. Every policy drives the same controller and scaler:
// a policy differs only in when cycles run (Poll, WakeOnQueue) and in the scaler.Policy knobs it
// sets (Standby, IdleTimeout, one job per agent). A baseline whose product decides differently
// from adofleet's scaler says so in its Notes.
type Policy struct {
	Name   string
	Source string // where its behaviour is documented
	Notes  string // how it maps onto the controller, and where it departs from the source
	// Poll is the period of the controller's cycles when nothing wakes it (the resync timer,
	// reset after every cycle as controller.Run does).
	Poll time.Duration
	// WakeOnQueue: a queued job wakes the controller after WakeDelay, the event's delivery (the
	// checks webhook or a service hook, as serve wires them to Controller.Wake). WakeInterval is
	// the controller's Options.WakeInterval: wake-ups within it of the last cycle coalesce into
	// one cycle at its end (controller.NextWakeCycle).
	WakeOnQueue  bool
	WakeDelay    time.Duration
	WakeInterval time.Duration
	// Standby is the fixed standby count; StandbyAt, if set, replaces it and is asked before
	// every cycle (a schedule, a prediction), the value passed on with Controller.SetStandby.
	Standby   int
	StandbyAt func(pool string, t time.Time) int
	// IdleTimeout: an idle agent beyond the standby count is drained after this long.
	IdleTimeout time.Duration
	// ReuseAgents: agents stay for further jobs (not --once).
	ReuseAgents bool
	// Ideal: no controller; the run launches one agent at the instant each job is queued (see
	// IdealPolicy).
	Ideal bool
}

// Policy names.
const (
	PolicyStepFunctions = "stepfunctions"
	PolicyKEDA          = "keda"
	PolicyScaleSet      = "scaleset"
	PolicyGitLab        = "gitlab"
	PolicyAdofleet      = "adofleet"
	PolicySchedule      = "adofleet-schedule"
	PolicyPredictive    = "adofleet-predictive"
)

// PolicyNames lists every policy PolicyByName knows, baselines first.
var PolicyNames = []string{PolicyStepFunctions, PolicyKEDA, PolicyScaleSet, PolicyGitLab,
	PolicyAdofleet, PolicySchedule, PolicyPredictive}

// PolicyOptions feed the policies that need more than a name.
type PolicyOptions struct {
	// Schedule is adofleet-schedule's standby schedule (default DefaultSchedule).
	Schedule Schedule
	// History is what adofleet-predictive learns its standby level from (the part of the trace
	// before the part it is scored on, see SplitTrace), and Quantile its cost/wait knob (default
	// 0.9). Boot is the boot-time distribution of the run.
	History  []Job
	Quantile float64
	Boot     BootDist
}

// HookDelivery is the assumed time from a job being queued to its service hook reaching the
// controller: ADO's side, not documented, charged to the event-driven policies all the same.
const HookDelivery = time.Second

// DefaultSchedule keeps 3 agents on standby on weekdays 08:00-18:00 UTC.
const DefaultSchedule = "mon-fri 08:00-18:00 3"

// PolicyByName returns the named policy.
func PolicyByName(name string, o PolicyOptions) (Policy, error) {
	switch name {
	case PolicyIdeal:
		return IdealPolicy(), nil
	case PolicyStepFunctions:
		// The seed's AWS design: an EventBridge rule runs a Step Functions state machine every
		// 2 minutes that starts one agent per queued job and removes the agents it finds idle.
		return Policy{
			Name: name, Source: "the seed's Step Functions design (EventBridge rate(2 minutes) -> state machine)",
			Notes: "poll 2m; one --once agent per queued job not already covered by a starting one; idle agents removed at the next poll",
			Poll:  2 * time.Minute, IdleTimeout: 0,
		}, nil
	case PolicyKEDA:
		// KEDA ScaledJob with the azure-pipelines trigger: pollingInterval defaults to 30 s; each
		// poll counts the pool's queued job requests and creates Kubernetes Jobs, each running one
		// --once agent; minReplicaCount 0; an agent pod waits for a job until it gets one.
		return Policy{
			Name: name, Source: "https://keda.sh/docs/latest/reference/scaledjob-spec/ (pollingInterval 30) and https://keda.sh/docs/latest/scalers/azure-pipelines/",
			Notes: "poll 30s; one --once agent per queued job less the agents starting (the 'accurate' scaling strategy); an idle agent is never removed (no idle timeout in ScaledJob)",
			Poll:  30 * time.Second, IdleTimeout: 24 * time.Hour,
		}, nil
	case PolicyScaleSet:
		// Azure Virtual Machine Scale Set agent pools: Azure Pipelines samples the pool and the
		// scale set every 5 minutes, keeps "Number of agents to keep on standby" idle agents,
		// deletes excess idle agents after "Delay in minutes before deleting excess idle agents"
		// (default 30), and reuses agents unless "Automatically tear down virtual machines after
		// every use" is set.
		return Policy{
			Name: name, Source: "https://learn.microsoft.com/azure/devops/pipelines/agents/scale-set-agents",
			Notes: "poll 5m; standby 1; excess idle agents deleted after 30m; agents reused (tear-down after every use off, the default)",
			Poll:  5 * time.Minute, Standby: 1, IdleTimeout: 30 * time.Minute, ReuseAgents: true,
		}, nil
	case PolicyGitLab:
		// GitLab Runner's docker-autoscaler (fleeting/taskscaler): the runner asks GitLab for jobs
		// every check_interval (3 s default) and taskscaler acquires an instance for each job it
		// takes, keeping idle_count idle instances and removing instances idle beyond idle_time.
		// The documented one-job-per-instance example: capacity_per_instance 1, max_use_count 1,
		// idle_count 5, idle_time 20m.
		return Policy{
			Name: name, Source: "https://docs.gitlab.com/runner/executors/docker_autoscaler/ (idle_count, idle_time, max_use_count; check_interval 3s)",
			Notes: "a queued job is seen within check_interval (3s); idle_count 5 as standby, idle_time 20m; one job per instance; idle upkeep checked every minute (assumed)",
			Poll:  time.Minute, WakeOnQueue: true, WakeDelay: 3 * time.Second, Standby: 5, IdleTimeout: 20 * time.Minute,
		}, nil
	case PolicyAdofleet:
		return Policy{
			Name: name, Source: "adofleet: service hook / checks webhook -> Controller.Wake, resync 30s",
			Notes: fmt.Sprintf("event-driven: a queued job's service hook reaches the controller in %s (assumed) and runs a cycle at once, "+
				"wake-ups within %s of the last cycle coalesce into one at its end; poll 30s as fallback; no standby; idle agents drained after 1m",
				HookDelivery, controller.DefaultWakeInterval),
			Poll: controller.DefaultResync, WakeOnQueue: true, WakeDelay: HookDelivery,
			WakeInterval: controller.DefaultWakeInterval, IdleTimeout: time.Minute,
		}, nil
	case PolicySchedule:
		s := o.Schedule
		if len(s) == 0 {
			var err error
			if s, err = ParseSchedule(DefaultSchedule); err != nil {
				return Policy{}, err
			}
		}
		p, _ := PolicyByName(PolicyAdofleet, o)
		p.Name, p.StandbyAt = name, func(_ string, t time.Time) int { return s.At(t) }
		p.Notes = "event-driven as adofleet, with standby agents on a schedule (" + s.String() + ")"
		return p, nil
	case PolicyPredictive:
		q := o.Quantile
		if q == 0 {
			q = 0.9
		}
		pred, err := Learn(o.History, q, o.Boot)
		if err != nil {
			return Policy{}, err
		}
		p, _ := PolicyByName(PolicyAdofleet, o)
		p.Name, p.StandbyAt = name, pred.At
		if pred.Jobs == 0 {
			p.Notes = "event-driven as adofleet; no history to learn from, so no standby"
			return p, nil
		}
		period := "day"
		if pred.weekly {
			period = "week"
		}
		p.Notes = fmt.Sprintf("event-driven as adofleet, with standby = the %.2f quantile of arrivals per 5-minute bucket of the %s (±%d buckets) over one mean boot, "+
			"learned from the %d jobs queued from %s and before %s", q, period, smooth, pred.Jobs,
			pred.From.Format("2006-01-02"), pred.To.Format("2006-01-02"))
		return p, nil
	}
	return Policy{}, fmt.Errorf("policy %q: want one of %s", name, strings.Join(PolicyNames, ", "))
}
