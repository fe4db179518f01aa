// Package storetest is the conformance suite every store.Store backend runs, so that the sqlite,
// dynamodb and postgres stores agree on semantics (conditional writes, not-found, ordering, time
// precision, exactly-once claims, outbox deduplication, check requests, leader leases and fenced
// writes) and the controller can be tested against any one of them.
//
// A backend's test calls Run with an Opener:
//
//	func TestConformance(t *testing.T) {
//		dir := t.TempDir()
//		storetest.Run(t, func(t *testing.T, key string) store.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(dir, key+".db"), sqlite.Options{})
//			if err != nil {
//				t.Fatalf("open: %v", err)
//			}
//			return s
//		})
//	}
package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// Opener opens a store on the backing data named by key (a file, a table, a schema). Each subtest
// gets a fresh key; the suite opens the same key again, after closing the first store, to check
// that data survives a restart, so the backing data must outlive the store that wrote it (keep it
// under a directory made once by the caller, not by t.TempDir() inside the Opener). Keys are
// short and made of [a-z0-9]. The suite closes every store it opens; an Opener must not.
type Opener func(t *testing.T, key string) store.Store

// Run runs every conformance subtest against the backend open opens. Subtests run in parallel,
// each on its own key.
func Run(t *testing.T, open Opener) {
	t.Helper()
	h := &harness{open: open}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"CreateDuplicate", testCreateDuplicate},
		{"CreateEmptyName", testCreateEmptyName},
		{"GetMissing", testGetMissing},
		{"UpdateCurrentVersion", testUpdateCurrentVersion},
		{"UpdateStaleVersion", testUpdateStaleVersion},
		{"UpdateMissing", testUpdateMissing},
		{"ListAgents", testListAgents},
		{"DeleteAgent", testDeleteAgent},
		{"Decisions", testDecisions},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"ClaimCallback", testClaimCallback},
		{"ClaimCallbackConcurrent", testClaimCallbackConcurrent},
		{"Reopen", testReopen},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"CanceledContext", testCanceledContext},

		{"VMCreateAndGet", testVMCreateAndGet},
		{"VMCreateDuplicate", testVMCreateDuplicate},
		{"VMCreateEmptyID", testVMCreateEmptyID},
		{"VMGetMissing", testVMGetMissing},
		{"VMUpdateCurrentVersion", testVMUpdateCurrentVersion},
		{"VMUpdateStaleVersion", testVMUpdateStaleVersion},
		{"VMUpdateMissing", testVMUpdateMissing},
		{"VMList", testVMList},
		{"VMDelete", testVMDelete},
		{"VMReopen", testVMReopen},
		{"VMConcurrentUpdates", testVMConcurrentUpdates},
		{"VMCanceledContext", testVMCanceledContext},

		{"OutboxEnqueueAndGet", testOutboxEnqueueAndGet},
		{"OutboxEnqueueDuplicateID", testOutboxEnqueueDuplicateID},
		{"OutboxEnqueueInvalid", testOutboxEnqueueInvalid},
		{"OutboxGetMissing", testOutboxGetMissing},
		{"OutboxDedup", testOutboxDedup},
		{"OutboxDedupConcurrent", testOutboxDedupConcurrent},
		{"OutboxDue", testOutboxDue},
		{"OutboxUpdate", testOutboxUpdate},
		{"OutboxUpdateStaleOrMissing", testOutboxUpdateStaleOrMissing},
		{"OutboxClaimRace", testOutboxClaimRace},
		{"OutboxCount", testOutboxCount},
		{"OutboxPayload", testOutboxPayload},
		{"OutboxReopen", testOutboxReopen},
		{"OutboxCanceledContext", testOutboxCanceledContext},

		{"CheckPutIdempotent", testCheckPutIdempotent},
		{"CheckPutInvalid", testCheckPutInvalid},
		{"CheckPending", testCheckPending},
		{"CheckDone", testCheckDone},
		{"CheckFinished", testCheckFinished},
		{"CheckTimesRoundTrip", testCheckTimesRoundTrip},
		{"CheckReopen", testCheckReopen},
		{"CheckPutConcurrent", testCheckPutConcurrent},
		{"CheckCanceledContext", testCheckCanceledContext},

		{"LeaseAcquire", testLeaseAcquire},
		{"LeaseRenew", testLeaseRenew},
		{"LeaseConflict", testLeaseConflict},
		{"LeaseTakeover", testLeaseTakeover},
		{"LeaseRelease", testLeaseRelease},
		{"LeaseConcurrent", testLeaseConcurrent},
		{"FencedWriteRefused", testFencedWriteRefused},
		{"FencedWriteCurrent", testFencedWriteCurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h)
		})
	}
}

// harness hands out fresh keys and tracks the stores it opened so each is closed exactly once.
type harness struct {
	open Opener
	next atomic.Int64
}

// fresh opens a store on a new key.
func (h *harness) fresh(t *testing.T) (*tracked, string) {
	t.Helper()
	key := fmt.Sprintf("s%d", h.next.Add(1))
	return h.openKey(t, key), key
}

// reopen closes s and opens its key again.
func (h *harness) reopen(t *testing.T, s *tracked, key string) *tracked {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close before reopen: %v", err)
	}
	return h.openKey(t, key)
}

func (h *harness) openKey(t *testing.T, key string) *tracked {
	t.Helper()
	s := h.open(t, key)
	if s == nil {
		t.Fatalf("Opener returned a nil store for key %q", key)
	}
	tr := &tracked{Store: s}
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tr
}

// tracked closes the wrapped store once, however often Close is called.
type tracked struct {
	store.Store
	once sync.Once
	err  error
}

func (s *tracked) Close() error {
	s.once.Do(func() { s.err = s.Store.Close() })
	return s.err
}

// base is a whole-millisecond instant: every backend must return it exactly.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// record is a fully populated agent record; tests change what they need.
func record(name, pool string, state store.AgentState) store.AgentRecord {
	return store.AgentRecord{
		Name:         name,
		Pool:         pool,
		LaunchToken:  "tok-" + name,
		Template:     "linux-small",
		InstanceID:   "i-" + name,
		AgentID:      41,
		State:        state,
		Reason:       "launch intent written",
		CreatedAt:    base,
		UpdatedAt:    base.Add(1500 * time.Millisecond),
		RegisteredAt: base.Add(3 * time.Second),
		JobRequestID: 9_007_199_254_740_993, // above 2^53: catches backends that store numbers as float64
		Version:      0,
	}
}

// create inserts r and fails the test on error; it returns r as stored (Version 1).
func create(t *testing.T, s store.Store, r store.AgentRecord) store.AgentRecord {
	t.Helper()
	if err := s.CreateAgent(t.Context(), r); err != nil {
		t.Fatalf("CreateAgent(%q): %v", r.Name, err)
	}
	r.Version = 1
	return r
}

// get reads name and fails the test on error.
func get(t *testing.T, s store.Store, name string) store.AgentRecord {
	t.Helper()
	r, err := s.GetAgent(t.Context(), name)
	if err != nil {
		t.Fatalf("GetAgent(%q): %v", name, err)
	}
	return r
}

// checkUTC fails the test if any non-zero time of r is not in UTC.
func checkUTC(t *testing.T, r store.AgentRecord) {
	t.Helper()
	for field, v := range map[string]time.Time{
		"CreatedAt": r.CreatedAt, "UpdatedAt": r.UpdatedAt, "RegisteredAt": r.RegisteredAt,
	} {
		if !v.IsZero() && v.Location() != time.UTC {
			t.Errorf("%s of %q: got location %v, want UTC", field, r.Name, v.Location())
		}
	}
}
