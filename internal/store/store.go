// Package store holds adofleet's durable state: one record per agent the controller intends to run
// (written before the provider is called), the recent decisions, the exactly-once marks for check
// callbacks, the check requests waiting for an agent, one record per EC2 instance registered as an
// Environment VM resource, and the notification outbox. Implementations: sqlite (default),
// dynamodb and postgres; every one passes the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("record not found")
	// ErrConflict: a conditional write lost (the record changed since it was read, or already exists).
	ErrConflict = errors.New("record changed concurrently")
)

// AgentState is where an agent the controller owns is in its life.
type AgentState string

const (
	// StateLaunching: intent written, provider not yet (known to be) called successfully.
	StateLaunching AgentState = "launching"
	// StateLaunched: the provider returned an instance id; the agent has not registered yet.
	StateLaunched AgentState = "launched"
	// StateRegistered: the agent is in the ADO pool.
	StateRegistered AgentState = "registered"
	// StateDraining: disabled in ADO, on its way out.
	StateDraining AgentState = "draining"
	// StateGone: instance terminated and agent deleted; kept for history until pruned.
	StateGone AgentState = "gone"
)

// Terminal reports whether nothing more will happen to a record in this state.
func (s AgentState) Terminal() bool { return s == StateGone }

// AgentRecord is one agent the controller launched or intends to launch.
type AgentRecord struct {
	Name         string // agent name in ADO; the key
	Pool         string
	LaunchToken  string // idempotency token of the provider batch it was launched in
	Template     string
	InstanceID   string // set once the provider returned it
	AgentID      int    // ADO agent id, once registered
	State        AgentState
	Reason       string // why it is in this state (last decision's reason, or the failure)
	CreatedAt    time.Time
	UpdatedAt    time.Time
	RegisteredAt time.Time // zero until registered
	JobRequestID int64     // the job it ran, when known
	// Version is the optimistic-concurrency counter: Update succeeds only if it matches the stored
	// value, and increments it.
	Version int64
}

// Decision is one action the controller decided, with its reason, for the dashboard and logs.
type Decision struct {
	Time   time.Time
	Pool   string
	Action string // launch, drain, terminate, delete-agent, register-placeholder, ...
	Target string // agent name, instance id, or a count
	Reason string
}

// CallbackKey identifies one check callback: sent exactly once per (plan, job, task instance).
type CallbackKey struct {
	PlanID         string
	JobID          string
	TaskInstanceID string
}

// Store is the state store interface every backend implements. Times come back in UTC with at
// least millisecond precision, and the zero time comes back as zero; storetest checks this and
// every rule below.
type Store interface {
	// CreateAgent inserts a new record (Version becomes 1); ErrConflict if the name exists, an
	// error if it is empty.
	CreateAgent(ctx context.Context, r AgentRecord) error
	// GetAgent returns the record for name, or ErrNotFound.
	GetAgent(ctx context.Context, name string) (AgentRecord, error)
	// UpdateAgent replaces the record if r.Version equals the stored version, and increments it.
	// It returns the stored record as written. ErrConflict if the version moved, ErrNotFound if absent.
	UpdateAgent(ctx context.Context, r AgentRecord) (AgentRecord, error)
	// ListAgents returns the pool's records (all pools if pool is ""), in any of states (all if none),
	// in no particular order.
	ListAgents(ctx context.Context, pool string, states ...AgentState) ([]AgentRecord, error)
	// DeleteAgent removes a record; deleting an absent record is not an error.
	DeleteAgent(ctx context.Context, name string) error

	// AppendDecision records a decision; ListDecisions returns the newest (by Time) first, at most
	// limit, or all if limit <= 0 (pool "" = all pools).
	AppendDecision(ctx context.Context, d Decision) error
	ListDecisions(ctx context.Context, pool string, limit int) ([]Decision, error)

	// ClaimCallback marks key as sent with result. It returns true exactly once per key across the
	// store's lifetime (and across restarts); false if it was claimed before. The sqlite and
	// postgres stores forget a claim after store.housekeeping.checkRetention (PruneChecks), longer
	// than any check can wait in ADO.
	ClaimCallback(ctx context.Context, key CallbackKey, result string, at time.Time) (bool, error)

	VMResources
	Outbox
	CheckRequests
	// Leases: leader leases, and fencing of every write above made with a context carrying a
	// store.Fence (see lease.go).
	Leases

	Close() error
}
