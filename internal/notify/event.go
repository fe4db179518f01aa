package notify

import (
	"context"
	"time"
)

// EventType names what happened. Routes select events by type, pool and severity.
type EventType string

// The events adofleet reports. Each producer fills Event.Fields with the keys listed.
const (
	// AgentStartFailed: the provider could not start an agent. Fields: agent, provider, reason.
	AgentStartFailed EventType = "agent.start_failed"
	// JobWaitedLong: a job waited in the queue longer than the threshold. Fields: jobRequestId,
	// waited, threshold, pipeline (when known).
	JobWaitedLong EventType = "job.waited_long"
	// PoolAtMax: the pool has been at its max for longer than the threshold. Fields: max,
	// queued, since.
	PoolAtMax EventType = "pool.at_max"
	// CheckCallbackFailed: a check callback could not be sent, or the check was failed for lack of
	// an agent. Fields: planId, jobId, reason.
	CheckCallbackFailed EventType = "check.callback_failed"
	// VMResourceDeregistered: an instance's VM resource (and hidden agent) were removed from its
	// Environment. Fields: instance, environment, project, resourceId.
	VMResourceDeregistered EventType = "vmresource.deregistered"
	// VMResourceDeregisterFailed: removing the VM resource failed. Fields: instance,
	// environment, project, reason.
	VMResourceDeregisterFailed EventType = "vmresource.deregister_failed"
	// OrphanTerminated: an instance with no live agent was terminated. Fields: instance, reason.
	OrphanTerminated EventType = "orphan.terminated"
	// APIThrottled: ADO or a cloud API answered 429 / a throttling error. Fields: api
	// ("ado", "ecs", ...), operation, retryAfter.
	APIThrottled EventType = "api.throttled"
	// RunCompleted: a pipeline run finished (from an ADO service hook). Fields: pipeline,
	// pipelineUrl, runId, result, commit, branch, requestedBy, duration, project, account,
	// region.
	RunCompleted EventType = "run.completed"
	// RunStageFailed: a stage of a pipeline run failed (from an ADO service hook). Fields: those
	// of RunCompleted (result is the stage's) plus stage.
	RunStageFailed EventType = "run.stage_failed"
	// RunJobFailed: a job of a pipeline run failed (from an ADO service hook). Fields: those of
	// RunCompleted (result and duration are the job's) plus job and, when known, stage.
	RunJobFailed EventType = "run.job_failed"
)

// Severity orders events for routing: a route with a minimum severity takes that and above.
type Severity string

const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Event is one thing worth telling people about. It carries no secret: producers put only names,
// ids, reasons (already redacted) and URLs without credentials in it.
type Event struct {
	Type     EventType
	Severity Severity
	Time     time.Time
	Pool     string // "" when the event is not about a pool
	// Summary is one human-readable line, e.g. "agent ci-lnx-3 failed to start: capacity".
	Summary string
	// Fields are the event's details, keyed as listed on each EventType.
	Fields map[string]string
	// DedupKey groups identical alerts; empty means Type, Pool and Summary.
	DedupKey string
}

// Publisher accepts events for delivery. Publish must not block on delivery: implementations
// write the event to a durable outbox and return. A nil Publisher is valid wherever one is
// optional; use Discard to be explicit.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// Discard drops every event.
var Discard Publisher = discard{}

type discard struct{}

func (discard) Publish(context.Context, Event) error { return nil }
