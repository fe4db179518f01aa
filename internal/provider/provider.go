// Package provider defines the contract between the controller and the compute that runs agents.
//
// A provider starts one agent per instance, finds its instances by tag (never by name guessing) and
// terminates them. Implementations live in sub-packages (local, ecs, ec2, aci, kubernetes) and import
// only this package; metrics for every provider come from the Instrument decorator, so no
// implementation instruments itself.
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Tag keys every instance the controller starts carries.
const (
	TagPool       = "adofleet:pool"
	TagController = "adofleet:controller"
	TagAgent      = "adofleet:agent"
	TagToken      = "adofleet:token"
)

// Typed errors, matched with errors.Is.
var (
	// ErrNotFound: the instance does not exist (any more).
	ErrNotFound = errors.New("instance not found")
	// ErrInsufficientCapacity: the cloud has no capacity for the request right now.
	ErrInsufficientCapacity = errors.New("insufficient capacity")
	// ErrInvalidRequest: the request can never succeed as written (bad template, bad config).
	ErrInvalidRequest = errors.New("invalid launch request")
)

// State is the provider-neutral lifecycle of an instance.
type State string

const (
	StatePending    State = "pending"    // accepted, not yet running
	StateRunning    State = "running"    // running (the agent may or may not have registered yet)
	StateStopping   State = "stopping"   // terminating
	StateTerminated State = "terminated" // gone; kept in List only briefly so its reason can be read
)

// Alive reports whether the instance still counts against the pool's capacity.
func (s State) Alive() bool { return s == StatePending || s == StateRunning }

// AgentSpec is one agent to start: its name in ADO and the environment it registers with.
type AgentSpec struct {
	Name string // agent name in ADO; unique per pool
}

// LaunchRequest asks for len(Agents) instances in one batch.
type LaunchRequest struct {
	// Token makes the launch idempotent: a second Launch with the same Token returns the instances
	// of the first and starts nothing new.
	Token    string
	Pool     string
	Template string // provider-specific template name from the config ("" = the pool's default)
	Agents   []AgentSpec
	// Tags are set on every instance; the controller always includes TagPool and TagController.
	Tags map[string]string
	// Env is handed to the agent process (ADO URL, pool, registration token reference, ...).
	// Values may be secret: providers never log them.
	Env map[string]string
	// Resources size each instance of the pool; zero fields keep the provider's own defaults.
	Resources Resources
}

// Resources is a pool's per-instance size, in the provider's own notation. The ecs provider uses
// them as the task-level cpu and memory overrides, in place of its configured ones, and the aci
// provider as the container's CPU cores and memory in GB ("1.5", "3.5"); the other providers
// (local, ec2, whose size comes from the launch template) ignore them.
type Resources struct {
	CPU    string // e.g. ECS "512" (CPU units) or "1 vCPU"
	Memory string // e.g. ECS "1024" (MiB) or "2 GB"
}

// Instance is one running (or recently ended) unit of compute hosting one agent.
type Instance struct {
	ID         string
	Pool       string
	AgentName  string
	State      State
	Tags       map[string]string
	LaunchedAt time.Time
	// Reason says why an instance ended or failed to start (e.g. "exit status 1",
	// "CannotPullContainerError"). Empty while it runs.
	Reason string
}

// Provider starts, lists and terminates agent instances.
type Provider interface {
	// Launch starts the agents of req. It may succeed for some agents and not others: it then returns
	// the instances it started together with a *PartialError describing the rest.
	Launch(ctx context.Context, req LaunchRequest) ([]Instance, error)
	// Terminate stops the given instances. Instances that are already gone are not errors.
	Terminate(ctx context.Context, ids []string) error
	// List returns the instances tagged for pool, including those that ended recently.
	List(ctx context.Context, pool string) ([]Instance, error)
}

// PartialError reports a launch in which some agents failed to start.
type PartialError struct {
	Failed map[string]error // by agent name
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d agent(s) failed to launch: %v", len(e.Failed), e.first())
}

func (e *PartialError) first() error {
	for _, err := range e.Failed {
		return err
	}
	return nil
}

// Unwrap lets errors.Is see the per-agent causes (e.g. ErrInsufficientCapacity).
func (e *PartialError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}
