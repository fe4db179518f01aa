package sqlite

// TEMPORARY: stubs so the tree compiles while the VM-record and outbox tables are written.
// Delete this file when vmresource.go and outbox.go land.

import (
	"context"
	"errors"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

var errPending = errors.New("sqlite: not implemented yet")

func (s *Store) CreateVM(context.Context, store.VMRecord) error { return errPending }
func (s *Store) GetVM(context.Context, string) (store.VMRecord, error) {
	return store.VMRecord{}, errPending
}
func (s *Store) UpdateVM(context.Context, store.VMRecord) (store.VMRecord, error) {
	return store.VMRecord{}, errPending
}
func (s *Store) ListVMs(context.Context, store.VMFilter) ([]store.VMRecord, error) {
	return nil, errPending
}
func (s *Store) DeleteVM(context.Context, string) error { return errPending }
func (s *Store) EnqueueMessage(context.Context, store.OutboxMessage, time.Time) (bool, error) {
	return false, errPending
}
func (s *Store) DueMessages(context.Context, time.Time, int) ([]store.OutboxMessage, error) {
	return nil, errPending
}
func (s *Store) GetMessage(context.Context, string) (store.OutboxMessage, error) {
	return store.OutboxMessage{}, errPending
}
func (s *Store) UpdateMessage(context.Context, store.OutboxMessage) (store.OutboxMessage, error) {
	return store.OutboxMessage{}, errPending
}
func (s *Store) CountMessages(context.Context) (map[store.OutboxState]int, error) {
	return nil, errPending
}
