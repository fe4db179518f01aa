package faultinject

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// Store wraps s with r's store faults for seed. Use New(seed, r).Store(s) to read the counts.
func Store(s store.Store, seed int64, r Rates) store.Store { return New(seed, r).Store(s) }

// Store wraps s so that each write fails at Rates.StoreWriteFail: half the time before it reaches
// s (nothing changed), half the time after s applied it (the caller cannot tell it happened, as
// when a commit succeeds and its acknowledgement is lost). Leader-lease writes fail the same way
// at Rates.LeaseWriteFail, drawn from a stream of their own. Reads pass through, and a write
// never stores anything other than what the caller asked for.
func (in *Injector) Store(s store.Store) store.Store {
	return &faultyStore{Store: s, in: in, s: in.stream(streamStore), lease: in.stream(streamLease)}
}

// faultyStore embeds the store so every method it does not override (the reads, and methods
// added to store.Store later) passes through.
type faultyStore struct {
	store.Store
	in    *Injector
	s     *stream
	lease *stream
}

// write runs do, failing before or after it as drawn.
func (f *faultyStore) write(op string, do func() error) error {
	return f.fail(f.s, f.in.rates.StoreWriteFail, FaultStoreBefore, FaultStoreAfter, op, do)
}

// fail runs do, failing before or after it at rate p as drawn from s; before and after name the
// counts.
func (f *faultyStore) fail(s *stream, p float64, before, after, op string, do func() error) error {
	u, late := s.float(), s.intN(2) == 1
	if !f.in.Enabled() || u >= p {
		return do()
	}
	if !late {
		f.in.count(before)
		return fmt.Errorf("store %s: %w", op, ErrInjected)
	}
	if err := do(); err != nil {
		return err
	}
	f.in.count(after)
	return fmt.Errorf("store %s: acknowledgement lost after the write: %w", op, ErrInjected)
}

// AcquireLease fails at Rates.LeaseWriteFail. After the fault the lease may be taken or renewed
// although the caller was told it failed: a renewal by the same holder then finds it held.
func (f *faultyStore) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (store.Lease, error) {
	var l store.Lease
	err := f.fail(f.lease, f.in.rates.LeaseWriteFail, FaultLeaseBefore, FaultLeaseAfter, "acquire lease "+name, func() (err error) {
		l, err = f.Store.AcquireLease(ctx, name, holder, ttl, now)
		return err
	})
	if errors.Is(err, ErrInjected) {
		return store.Lease{}, err
	}
	return l, err // a conflict returns the standing lease with the error
}

// ReleaseLease fails at Rates.LeaseWriteFail: a release that failed before leaves the lease to
// expire.
func (f *faultyStore) ReleaseLease(ctx context.Context, l store.Lease) error {
	return f.fail(f.lease, f.in.rates.LeaseWriteFail, FaultLeaseBefore, FaultLeaseAfter, "release lease "+l.Name,
		func() error { return f.Store.ReleaseLease(ctx, l) })
}

func (f *faultyStore) CreateAgent(ctx context.Context, r store.AgentRecord) error {
	return f.write("create agent "+r.Name, func() error { return f.Store.CreateAgent(ctx, r) })
}

func (f *faultyStore) UpdateAgent(ctx context.Context, r store.AgentRecord) (store.AgentRecord, error) {
	var out store.AgentRecord
	err := f.write("update agent "+r.Name, func() (err error) {
		out, err = f.Store.UpdateAgent(ctx, r)
		return err
	})
	if err != nil {
		return store.AgentRecord{}, err
	}
	return out, nil
}

func (f *faultyStore) DeleteAgent(ctx context.Context, name string) error {
	return f.write("delete agent "+name, func() error { return f.Store.DeleteAgent(ctx, name) })
}

func (f *faultyStore) AppendDecision(ctx context.Context, d store.Decision) error {
	return f.write("append decision", func() error { return f.Store.AppendDecision(ctx, d) })
}

func (f *faultyStore) ClaimCallback(ctx context.Context, key store.CallbackKey, result string, at time.Time) (bool, error) {
	var claimed bool
	err := f.write("claim callback", func() (err error) {
		claimed, err = f.Store.ClaimCallback(ctx, key, result, at)
		return err
	})
	return claimed && err == nil, err
}

func (f *faultyStore) CreateVM(ctx context.Context, r store.VMRecord) error {
	return f.write("create VM "+r.InstanceID, func() error { return f.Store.CreateVM(ctx, r) })
}

func (f *faultyStore) UpdateVM(ctx context.Context, r store.VMRecord) (store.VMRecord, error) {
	var out store.VMRecord
	err := f.write("update VM "+r.InstanceID, func() (err error) {
		out, err = f.Store.UpdateVM(ctx, r)
		return err
	})
	if err != nil {
		return store.VMRecord{}, err
	}
	return out, nil
}

func (f *faultyStore) DeleteVM(ctx context.Context, id string) error {
	return f.write("delete VM "+id, func() error { return f.Store.DeleteVM(ctx, id) })
}

func (f *faultyStore) EnqueueMessage(ctx context.Context, m store.OutboxMessage, dedupSince time.Time) (bool, error) {
	var stored bool
	err := f.write("enqueue message "+m.ID, func() (err error) {
		stored, err = f.Store.EnqueueMessage(ctx, m, dedupSince)
		return err
	})
	return stored && err == nil, err
}

func (f *faultyStore) UpdateMessage(ctx context.Context, m store.OutboxMessage) (store.OutboxMessage, error) {
	var out store.OutboxMessage
	err := f.write("update message "+m.ID, func() (err error) {
		out, err = f.Store.UpdateMessage(ctx, m)
		return err
	})
	if err != nil {
		return store.OutboxMessage{}, err
	}
	return out, nil
}

func (f *faultyStore) PutCheckRequest(ctx context.Context, r store.CheckRequest) (bool, error) {
	var created bool
	err := f.write("put check request", func() (err error) {
		created, err = f.Store.PutCheckRequest(ctx, r)
		return err
	})
	return created && err == nil, err
}

func (f *faultyStore) DoneCheckRequest(ctx context.Context, key store.CallbackKey, o store.CheckOutcome) error {
	return f.write("done check request", func() error { return f.Store.DoneCheckRequest(ctx, key, o) })
}
