package fleetops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// AgentRemover is what gc calls of Azure DevOps to remove an agent (ado.API has it).
type AgentRemover interface {
	GetAgent(ctx context.Context, poolID, agentID int) (ado.Agent, error)
	SetAgentEnabled(ctx context.Context, poolID, agentID int, enabled bool) (ado.Agent, error)
	DeleteAgent(ctx context.Context, poolID, agentID int) error
}

// Terminator is what gc calls of the pool's provider (provider.Provider has it).
type Terminator interface {
	Terminate(ctx context.Context, ids []string) error
}

// RecordWriter is what gc writes to the store (store.Store has it).
type RecordWriter interface {
	GetAgent(ctx context.Context, name string) (store.AgentRecord, error)
	UpdateAgent(ctx context.Context, r store.AgentRecord) (store.AgentRecord, error)
	AppendDecision(ctx context.Context, d store.Decision) error
}

// GCDeps are what ApplyStep acts through.
type GCDeps struct {
	ADO      AgentRemover
	Provider Terminator // the pool's provider
	Store    RecordWriter
	Log      *slog.Logger // warns of a decision it could not record; nil: discard
	Now      func() time.Time
}

// StepResult is how one step went.
type StepResult struct {
	// Kept says why an agent the step meant to remove was kept (it took a job meanwhile).
	Kept string
	// Err: the step failed; what it did before is undone where it can be (the agent is enabled
	// again).
	Err error
	// RecordErr: the step was done, but its store record could not be marked gone.
	RecordErr error
}

// ApplyStep carries out one step of PlanGC(v, ...): a Keep step does nothing. Every write first
// checks that the caller's leader term (if ctx has one) still holds.
func ApplyStep(ctx context.Context, d GCDeps, v *PoolView, s Step) StepResult {
	a := applier{GCDeps: d, v: v}
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	var r StepResult
	switch s.Kind {
	case StepKeep:
		return r
	case StepDeleteAgent, StepDeletePlaceholder:
		r.Err = a.deleteAgent(ctx, s.Agent)
	case StepRemoveAgent:
		r.Kept, r.Err = a.removeAgent(ctx, s)
	case StepTerminate:
		r.Err = a.terminate(ctx, s.Inst)
	case StepCloseRecord:
		r.Err = leader.CheckTerm(ctx) // nothing outside the store: the record is closed below
	default:
		r.Err = fmt.Errorf("gc step %q: unknown kind %d", s.Target, s.Kind)
	}
	if r.Err == nil && r.Kept == "" {
		r.RecordErr = a.closeRecord(ctx, s)
	}
	return r
}

// applier is one step's dependencies and pool.
type applier struct {
	GCDeps
	v *PoolView
}

// deleteAgent deletes an agent that cannot take a job: offline with no instance, or the
// placeholder.
func (a applier) deleteAgent(ctx context.Context, ag *ado.Agent) error {
	if err := leader.CheckTerm(ctx); err != nil {
		return err
	}
	if err := a.ADO.DeleteAgent(ctx, a.v.poolID, ag.ID); err != nil {
		return fmt.Errorf("delete agent %d: %w", ag.ID, err)
	}
	return nil
}

// removeAgent follows the controller's drain protocol: disable the agent so ADO assigns it
// nothing more, re-read it, and only if it still has no job terminate its instance and delete
// it. An agent that took a job in between is enabled again and kept (kept says why).
func (a applier) removeAgent(ctx context.Context, s Step) (kept string, err error) {
	ag := s.Agent
	if err := leader.CheckTerm(ctx); err != nil {
		return "", err
	}
	if _, err := a.ADO.SetAgentEnabled(ctx, a.v.poolID, ag.ID, false); err != nil {
		return "", fmt.Errorf("disable agent %d: %w", ag.ID, err)
	}
	got, err := a.ADO.GetAgent(ctx, a.v.poolID, ag.ID)
	gone := errors.Is(err, ado.ErrNotFound)
	switch {
	case err != nil && !gone:
		return "", a.reenable(ctx, ag, fmt.Errorf("re-check agent %d: %w", ag.ID, err))
	case !gone && got.AssignedRequest != nil:
		if err := a.reenable(ctx, ag, nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("it took job request %d before it could be removed", got.AssignedRequest.RequestID), nil
	}
	if s.Inst != nil {
		if err := a.terminate(ctx, s.Inst); err != nil {
			return "", a.reenable(ctx, ag, err)
		}
	}
	if gone {
		return "", nil
	}
	if err := a.deleteAgent(ctx, ag); err != nil {
		return "", err
	}
	return "", nil
}

// reenable gives back an agent gc disabled but will not remove, and returns cause (or the
// re-enable's own failure joined to it).
func (a applier) reenable(ctx context.Context, ag *ado.Agent, cause error) error {
	if _, err := a.ADO.SetAgentEnabled(ctx, a.v.poolID, ag.ID, true); err != nil {
		return errors.Join(cause, fmt.Errorf("enable agent %d again: %w", ag.ID, err))
	}
	return cause
}

// terminate stops one instance; one already gone is not an error (the Provider contract).
func (a applier) terminate(ctx context.Context, in *provider.Instance) error {
	if err := leader.CheckTerm(ctx); err != nil {
		return err
	}
	if err := a.Provider.Terminate(ctx, []string{in.ID}); err != nil {
		return fmt.Errorf("terminate instance %s: %w", in.ID, err)
	}
	return nil
}

// closeRecord marks the record of what was removed gone, as the controller does, and appends
// the decision to the pool's history. The placeholder has no record.
func (a applier) closeRecord(ctx context.Context, s Step) error {
	// Targets as the controller records them: the agent's name, or the instance's id.
	action, target := scaler.ActionDelete, ""
	switch {
	case s.Agent != nil:
		target = s.Agent.Name
	case s.Inst != nil:
		action, target = scaler.ActionTerminate, s.Inst.ID
	}
	reason := "adofleet gc: " + s.Reason
	if s.Kind != StepCloseRecord { // closing a record removes nothing: no decision, as the controller's
		d := store.Decision{Time: a.Now(), Pool: a.v.pool, Action: action, Target: target, Reason: reason}
		if err := a.Store.AppendDecision(ctx, d); err != nil {
			// The removal happened; a lost history line is not worth a failure.
			a.Log.Warn("record the gc decision", "target", target, "err", err)
		}
	}
	rec := s.Record
	if rec == nil || rec.State == store.StateGone {
		return nil
	}
	if _, err := store.MutateAgent(ctx, a.Store, *rec, func(r *store.AgentRecord) {
		r.State, r.Reason, r.UpdatedAt = store.StateGone, reason, a.Now()
	}); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
