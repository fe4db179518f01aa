package store

import (
	"context"
	"errors"
	"fmt"
)

// AgentUpdater is the part of a Store that MutateAgent uses.
type AgentUpdater interface {
	GetAgent(ctx context.Context, name string) (AgentRecord, error)
	UpdateAgent(ctx context.Context, r AgentRecord) (AgentRecord, error)
}

// MutateAgent applies mutate to rec and writes it. On ErrConflict (another writer updated the
// record since rec was read) it re-reads the record, applies mutate to that and retries once, so
// a change is made to the current record rather than lost. It returns the stored record.
func MutateAgent(ctx context.Context, s AgentUpdater, rec AgentRecord, mutate func(*AgentRecord)) (AgentRecord, error) {
	next := rec
	mutate(&next)
	stored, err := s.UpdateAgent(ctx, next)
	if errors.Is(err, ErrConflict) {
		fresh, gerr := s.GetAgent(ctx, rec.Name)
		if gerr != nil {
			return AgentRecord{}, fmt.Errorf("re-read agent %q after conflict: %w", rec.Name, gerr)
		}
		mutate(&fresh)
		stored, err = s.UpdateAgent(ctx, fresh)
	}
	if err != nil {
		return AgentRecord{}, fmt.Errorf("update agent %q to %s: %w", rec.Name, next.State, err)
	}
	return stored, nil
}
