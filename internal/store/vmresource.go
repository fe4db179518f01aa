package store

import (
	"context"
	"time"
)

// VMState is where an EC2 instance registered as an Environment VM resource is in its life.
type VMState string

const (
	// VMLaunching: the launch was seen; the VM resource has not appeared in the Environment yet.
	VMLaunching VMState = "launching"
	// VMRegistered: the VM resource exists; ResourceID (and AgentID) are known.
	VMRegistered VMState = "registered"
	// VMTerminating: the termination was seen; the resource is being removed.
	VMTerminating VMState = "terminating"
	// VMGone: the resource and its hidden agent are removed (or never appeared). Kept until
	// ExpiresAt so a late or duplicated event for the instance finds it and does nothing.
	VMGone VMState = "gone"
)

// Terminal reports whether nothing more will happen to a record in this state.
func (s VMState) Terminal() bool { return s == VMGone }

// VMRecord is what adofleet knows of one instance that registers (or registered) itself as a VM
// resource. It is written at launch because the instance's tags are often gone by the time its
// termination is reported.
type VMRecord struct {
	InstanceID       string // EC2 instance id; the key
	AutoScalingGroup string
	Project          string // ADO project name
	Environment      string // ADO Environment name
	EnvironmentID    int    // 0 until resolved
	ResourceName     string // the VM resource's name (adofleet names it by instance id)
	ResourceID       int    // 0 until the resource appeared
	PoolID           int    // the Environment's hidden deployment pool, once known
	AgentID          int    // the resource's hidden agent in that pool, once known
	Tags             []string
	State            VMState
	Reason           string // why it is in this state
	// LifecycleHook and LifecycleToken identify the pending lifecycle action to complete, when the
	// termination came through a hook.
	LifecycleHook  string
	LifecycleToken string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// ExpiresAt is when a finished record may be removed (a TTL for dynamodb, a prune for the
	// others); zero keeps it.
	ExpiresAt time.Time
	// Version is the optimistic-concurrency counter, as for AgentRecord.
	Version int64
}

// VMFilter selects VM records; empty fields match everything.
type VMFilter struct {
	Project     string
	Environment string
	States      []VMState
}

// VMResources stores VMRecords with the same rules as the agent records: conditional writes on
// Version, ErrNotFound, ErrConflict, times in UTC with millisecond precision, Tags round-trip in
// order (nil and empty both come back as nil).
type VMResources interface {
	// CreateVM inserts a record (Version becomes 1); ErrConflict if the instance id exists, an
	// error if it is empty.
	CreateVM(ctx context.Context, r VMRecord) error
	// GetVM returns the record for the instance, or ErrNotFound.
	GetVM(ctx context.Context, instanceID string) (VMRecord, error)
	// UpdateVM replaces the record if r.Version equals the stored version and increments it,
	// returning the record as stored; ErrConflict if the version moved, ErrNotFound if absent.
	UpdateVM(ctx context.Context, r VMRecord) (VMRecord, error)
	// ListVMs returns the records matching f, in no particular order.
	ListVMs(ctx context.Context, f VMFilter) ([]VMRecord, error)
	// DeleteVM removes a record; deleting an absent record is not an error.
	DeleteVM(ctx context.Context, instanceID string) error
}
