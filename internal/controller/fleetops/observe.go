package fleetops

import (
	"context"
	"errors"
	"fmt"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/store"
)

// PoolReader is what Observe reads of Azure DevOps (ado.API has it).
type PoolReader interface {
	FindPool(ctx context.Context, name string) (ado.Pool, error)
	ListAgents(ctx context.Context, poolID int) ([]ado.Agent, error)
	ListJobRequests(ctx context.Context, poolID int) ([]ado.JobRequest, error)
}

// InstanceLister is what Observe reads of the pool's provider (provider.Provider has it).
type InstanceLister interface {
	List(ctx context.Context, pool string) ([]provider.Instance, error)
}

// RecordLister is what Observe reads of the store (store.Store has it).
type RecordLister interface {
	ListAgents(ctx context.Context, pool string, states ...store.AgentState) ([]store.AgentRecord, error)
}

// Deps are where Observe reads one pool from.
type Deps struct {
	ADO      PoolReader
	Provider InstanceLister
	Store    RecordLister
	// ControllerID is the controller whose tagged instances are adofleet's (controller.id).
	ControllerID string
}

// Observe reads the pool as the controller's observe does, with reads only: its agents (in full,
// with their assigned requests) and job requests for who is busy, the provider's list for our
// instances, the store for our records. A pool Azure DevOps does not know is no error: the view
// has no agents and InADO is false.
func Observe(ctx context.Context, d Deps, pool string) (*PoolView, error) {
	o := Observation{Pool: pool, ControllerID: d.ControllerID}
	if err := observeADO(ctx, d.ADO, &o); err != nil {
		return nil, err
	}
	var err error
	if o.Instances, err = d.Provider.List(ctx, pool); err != nil {
		return nil, fmt.Errorf("list instances of pool %q: %w", pool, err)
	}
	if o.Records, err = d.Store.ListAgents(ctx, pool); err != nil {
		return nil, fmt.Errorf("list store records of pool %q: %w", pool, err)
	}
	return NewPoolView(o), nil
}

// observeADO reads the pool's id, agents and job requests into o; a pool ADO does not know
// leaves them empty.
func observeADO(ctx context.Context, client PoolReader, o *Observation) error {
	p, err := client.FindPool(ctx, o.Pool)
	if errors.Is(err, ado.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find pool %q: %w", o.Pool, err)
	}
	o.PoolID = p.ID
	if o.Agents, err = client.ListAgents(ctx, p.ID); err != nil {
		return fmt.Errorf("list agents of pool %q: %w", o.Pool, err)
	}
	if o.Jobs, err = client.ListJobRequests(ctx, p.ID); err != nil {
		return fmt.Errorf("list job requests of pool %q: %w", o.Pool, err)
	}
	return nil
}
