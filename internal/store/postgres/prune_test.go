package postgres_test

import (
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestPrune(t *testing.T) {
	t.Parallel()
	storetest.RunPrune(t, func(t *testing.T, key string) storetest.Pruner {
		return openTemp(t, key, postgres.Options{})
	})
}

// PruneExpired prunes both kinds at the store's clock.
func TestPruneExpired(t *testing.T) {
	t.Parallel()
	s := openTemp(t, "prune_expired", postgres.Options{Now: func() time.Time { return base }})
	ctx := t.Context()
	for _, r := range []store.VMRecord{
		{InstanceID: "i-expired", State: store.VMGone, ExpiresAt: base.Add(-time.Second)},
		{InstanceID: "i-later", State: store.VMGone, ExpiresAt: base.Add(time.Second)},
	} {
		if err := s.CreateVM(ctx, r); err != nil {
			t.Fatalf("CreateVM(%q): %v", r.InstanceID, err)
		}
	}
	for _, m := range []store.OutboxMessage{
		{ID: "m-expired", Route: "ops", ExpiresAt: base.Add(-time.Second)},
		{ID: "m-later", Route: "ops", ExpiresAt: base.Add(time.Second)},
	} {
		if ok, err := s.EnqueueMessage(ctx, m, time.Time{}); err != nil || !ok {
			t.Fatalf("EnqueueMessage(%q): got %v, %v; want true, nil", m.ID, ok, err)
		}
		m.State, m.Version = store.OutboxDelivered, 1
		if _, err := s.UpdateMessage(ctx, m); err != nil {
			t.Fatalf("UpdateMessage(%q): %v", m.ID, err)
		}
	}
	vms, msgs, err := s.PruneExpired(ctx)
	if err != nil || vms != 1 || msgs != 1 {
		t.Fatalf("PruneExpired: got %d VM records, %d messages, %v; want 1, 1, nil", vms, msgs, err)
	}
	if _, err := s.GetVM(ctx, "i-later"); err != nil {
		t.Errorf("GetVM(i-later) after PruneExpired: %v", err)
	}
	if _, err := s.GetMessage(ctx, "m-later"); err != nil {
		t.Errorf("GetMessage(m-later) after PruneExpired: %v", err)
	}
}
