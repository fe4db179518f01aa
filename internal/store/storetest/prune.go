package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
)

// Pruner is a store that deletes old records when asked to (sqlite, postgres). It is not part of
// store.Store: the dynamodb store lets the table's TTL expire them instead.
type Pruner interface {
	store.Store
	PruneAgents(ctx context.Context, before time.Time) (int, error)
	PruneDecisions(ctx context.Context, keep int) (int, error)
	PruneVMs(ctx context.Context, now time.Time) (int, error)
	PruneMessages(ctx context.Context, now time.Time) (int, error)
	PruneChecks(ctx context.Context, before time.Time) (int, error)
}

// PruneOpener opens a store on new, empty backing data, which key may name (keys are short and
// made of [a-z_]; one may come more than once). Unlike an Opener, it closes the store itself
// when t ends.
type PruneOpener func(t *testing.T, key string) Pruner

// RunPrune runs the pruning subtests against the backend open opens: what each Prune method
// deletes and keeps, and the order of decisions made at one instant, which is the order
// PruneDecisions keeps the newest by. Subtests run in parallel, each on its own store.
func RunPrune(t *testing.T, open PruneOpener) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, PruneOpener)
	}{
		{"Agents", testPruneAgents},
		{"Decisions", testPruneDecisions},
		{"DecisionsSameInstant", testDecisionsSameInstant},
		{"VMs", testPruneVMs},
		{"Messages", testPruneMessages},
		{"Checks", testPruneChecks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

func testPruneAgents(t *testing.T, open PruneOpener) {
	s := open(t, "prune_agents")
	ctx := t.Context()
	seed := []store.AgentRecord{
		{Name: "gone-old", State: store.StateGone, UpdatedAt: base.Add(-2 * time.Hour)},
		{Name: "gone-at-cutoff", State: store.StateGone, UpdatedAt: base},
		{Name: "gone-recent", State: store.StateGone, UpdatedAt: base.Add(time.Minute)},
		{Name: "gone-no-time", State: store.StateGone},
		{Name: "registered-old", State: store.StateRegistered, UpdatedAt: base.Add(-2 * time.Hour)},
		{Name: "draining-old", State: store.StateDraining, UpdatedAt: base.Add(-2 * time.Hour)},
	}
	for _, r := range seed {
		r.Pool = "linux"
		if err := s.CreateAgent(ctx, r); err != nil {
			t.Fatalf("CreateAgent(%q): %v", r.Name, err)
		}
	}
	n, err := s.PruneAgents(ctx, base)
	if err != nil {
		t.Fatalf("PruneAgents: %v", err)
	}
	if n != 2 {
		t.Errorf("PruneAgents removed %d, want 2", n)
	}
	left, err := s.ListAgents(ctx, "")
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	var names []string
	for _, r := range left {
		names = append(names, r.Name)
	}
	want := []string{"draining-old", "gone-at-cutoff", "gone-recent", "registered-old"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("records left after prune (-want +got):\n%s", diff)
	}
	if n, err := s.PruneAgents(ctx, base); err != nil || n != 0 {
		t.Errorf("second PruneAgents: got %d, %v; want 0, nil", n, err)
	}
}

func testPruneDecisions(t *testing.T, open PruneOpener) {
	tests := []struct {
		name     string
		keep     int
		want     map[string]int // decisions left per pool
		wantGone int
	}{
		{"keep three", 3, map[string]int{"busy": 3, "quiet": 2}, 7},
		{"keep more than there are", 50, map[string]int{"busy": 10, "quiet": 2}, 0},
		{"keep none", 0, map[string]int{}, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t, "prune_decisions")
			ctx := t.Context()
			appendN := func(pool string, n int) {
				for i := range n {
					d := store.Decision{Time: base.Add(time.Duration(i) * time.Second), Pool: pool, Action: "launch", Target: fmt.Sprint(i)}
					if err := s.AppendDecision(ctx, d); err != nil {
						t.Fatalf("AppendDecision: %v", err)
					}
				}
			}
			total := map[string]int{"quiet": 2, "busy": 10}
			for pool, n := range total {
				appendN(pool, n)
			}
			n, err := s.PruneDecisions(ctx, tc.keep)
			if err != nil {
				t.Fatalf("PruneDecisions(%d): %v", tc.keep, err)
			}
			if n != tc.wantGone {
				t.Errorf("PruneDecisions(%d) removed %d, want %d", tc.keep, n, tc.wantGone)
			}
			got := map[string]int{}
			for _, pool := range []string{"busy", "quiet"} {
				ds, err := s.ListDecisions(ctx, pool, 0)
				if err != nil {
					t.Fatalf("ListDecisions(%q): %v", pool, err)
				}
				if len(ds) == 0 {
					continue
				}
				got[pool] = len(ds)
				// The newest survive: the oldest left is number total-left of 0..total-1.
				oldest := base.Add(time.Duration(total[pool]-len(ds)) * time.Second)
				if !ds[len(ds)-1].Time.Equal(oldest) || !ds[0].Time.Equal(base.Add(time.Duration(total[pool]-1)*time.Second)) {
					t.Errorf("pool %q: kept %v .. %v, want the newest %d", pool, ds[len(ds)-1].Time, ds[0].Time, len(ds))
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decisions left per pool (-want +got):\n%s", diff)
			}
		})
	}
	s := open(t, "prune_decisions_neg")
	if _, err := s.PruneDecisions(t.Context(), -1); err == nil {
		t.Error("PruneDecisions(-1): got nil error, want an error")
	}
}

// Decisions made at the same instant come back newest-appended first.
func testDecisionsSameInstant(t *testing.T, open PruneOpener) {
	s := open(t, "same_instant")
	for _, target := range []string{"first", "second", "third"} {
		if err := s.AppendDecision(t.Context(), store.Decision{Time: base, Pool: "p", Action: "drain", Target: target}); err != nil {
			t.Fatalf("AppendDecision: %v", err)
		}
	}
	ds, err := s.ListDecisions(t.Context(), "p", 0)
	if err != nil {
		t.Fatalf("ListDecisions: %v", err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Target)
	}
	if diff := cmp.Diff([]string{"third", "second", "first"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// Finished VM records go once past ExpiresAt; live ones and ones without an expiry stay.
func testPruneVMs(t *testing.T, open PruneOpener) {
	s := open(t, "prune_vms")
	ctx := t.Context()
	seed := []store.VMRecord{
		{InstanceID: "gone-expired", State: store.VMGone, ExpiresAt: base.Add(-time.Hour)},
		{InstanceID: "gone-expired-just", State: store.VMGone, ExpiresAt: base.Add(-time.Millisecond)},
		{InstanceID: "gone-at-cutoff", State: store.VMGone, ExpiresAt: base},
		{InstanceID: "gone-later", State: store.VMGone, ExpiresAt: base.Add(time.Minute)},
		{InstanceID: "gone-no-expiry", State: store.VMGone},
		{InstanceID: "registered-expired", State: store.VMRegistered, ExpiresAt: base.Add(-time.Hour)},
		{InstanceID: "terminating-expired", State: store.VMTerminating, ExpiresAt: base.Add(-time.Hour)},
	}
	for _, r := range seed {
		if err := s.CreateVM(ctx, r); err != nil {
			t.Fatalf("CreateVM(%q): %v", r.InstanceID, err)
		}
	}
	n, err := s.PruneVMs(ctx, base)
	if err != nil {
		t.Fatalf("PruneVMs: %v", err)
	}
	if n != 2 {
		t.Errorf("PruneVMs removed %d, want 2", n)
	}
	left, err := s.ListVMs(ctx, store.VMFilter{})
	if err != nil {
		t.Fatalf("ListVMs: %v", err)
	}
	var ids []string
	for _, r := range left {
		ids = append(ids, r.InstanceID)
	}
	want := []string{"gone-at-cutoff", "gone-later", "gone-no-expiry", "registered-expired", "terminating-expired"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("records left after prune (-want +got):\n%s", diff)
	}
	if n, err := s.PruneVMs(ctx, base); err != nil || n != 0 {
		t.Errorf("second PruneVMs: got %d, %v; want 0, nil", n, err)
	}
}

// Delivered and dead messages go once past ExpiresAt; pending ones never do, and a pruned alert
// no longer deduplicates a new one.
func testPruneMessages(t *testing.T, open PruneOpener) {
	s := open(t, "prune_messages")
	ctx := t.Context()
	seed := []struct {
		id      string
		state   store.OutboxState
		expires time.Time
	}{
		{"delivered-expired", store.OutboxDelivered, base.Add(-time.Hour)},
		{"dead-expired", store.OutboxDead, base.Add(-time.Millisecond)},
		{"delivered-at-cutoff", store.OutboxDelivered, base},
		{"delivered-later", store.OutboxDelivered, base.Add(time.Minute)},
		{"dead-no-expiry", store.OutboxDead, time.Time{}},
		{"pending-expired", store.OutboxPending, base.Add(-time.Hour)},
	}
	for _, sd := range seed {
		m := store.OutboxMessage{ID: sd.id, Route: "ops", DedupKey: sd.id, CreatedAt: base.Add(-2 * time.Hour), ExpiresAt: sd.expires}
		if ok, err := s.EnqueueMessage(ctx, m, time.Time{}); err != nil || !ok {
			t.Fatalf("EnqueueMessage(%q): got %v, %v; want true, nil", sd.id, ok, err)
		}
		m.State, m.Version = sd.state, 1
		if _, err := s.UpdateMessage(ctx, m); err != nil {
			t.Fatalf("UpdateMessage(%q): %v", sd.id, err)
		}
	}
	n, err := s.PruneMessages(ctx, base)
	if err != nil {
		t.Fatalf("PruneMessages: %v", err)
	}
	if n != 2 {
		t.Errorf("PruneMessages removed %d, want 2", n)
	}
	counts, err := s.CountMessages(ctx)
	if err != nil {
		t.Fatalf("CountMessages: %v", err)
	}
	want := map[store.OutboxState]int{store.OutboxPending: 1, store.OutboxDelivered: 2, store.OutboxDead: 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("messages left after prune (-want +got):\n%s", diff)
	}
	for _, sd := range seed {
		_, err := s.GetMessage(ctx, sd.id)
		if gone := sd.id == "delivered-expired" || sd.id == "dead-expired"; gone != errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetMessage(%q) after prune: got %v, want pruned %v", sd.id, err, gone)
		}
	}
	again := store.OutboxMessage{ID: "again", Route: "ops", DedupKey: "delivered-expired", CreatedAt: base}
	if ok, err := s.EnqueueMessage(ctx, again, time.Time{}); err != nil || !ok {
		t.Errorf("EnqueueMessage of a pruned alert's key: got %v, %v; want true, nil", ok, err)
	}
	if n, err := s.PruneMessages(ctx, base); err != nil || n != 0 {
		t.Errorf("second PruneMessages: got %d, %v; want 0, nil", n, err)
	}
}

// Done check requests and callback claims go once older than the cutoff; pending requests never
// do, and a pruned claim can be claimed again.
func testPruneChecks(t *testing.T, open PruneOpener) {
	s := open(t, "prune_checks")
	ctx := t.Context()
	key := func(id string) store.CallbackKey {
		return store.CallbackKey{PlanID: "plan-" + id, JobID: "job", TaskInstanceID: "task"}
	}
	seed := []struct {
		id   string
		done time.Time // zero: still pending
	}{
		{"done-old", base.Add(-time.Hour)},
		{"done-at-cutoff", base},
		{"done-recent", base.Add(time.Minute)},
		{"pending-old", time.Time{}},
	}
	for _, sd := range seed {
		r := store.CheckRequest{Key: key(sd.id), Pool: "p", PlanURL: "https://dev.azure.com/org/", ProjectID: "proj",
			HubName: "build", AuthToken: "token", ReceivedAt: base.Add(-2 * time.Hour)}
		if ok, err := s.PutCheckRequest(ctx, r); err != nil || !ok {
			t.Fatalf("PutCheckRequest(%q): got %v, %v; want true, nil", sd.id, ok, err)
		}
		if sd.done.IsZero() {
			continue
		}
		if err := s.DoneCheckRequest(ctx, r.Key, store.CheckOutcome{Result: "succeeded", At: sd.done}); err != nil {
			t.Fatalf("DoneCheckRequest(%q): %v", sd.id, err)
		}
		if ok, err := s.ClaimCallback(ctx, r.Key, "succeeded", sd.done); err != nil || !ok {
			t.Fatalf("ClaimCallback(%q): got %v, %v; want true, nil", sd.id, ok, err)
		}
	}
	n, err := s.PruneChecks(ctx, base)
	if err != nil {
		t.Fatalf("PruneChecks: %v", err)
	}
	if n != 2 { // done-old's request and its claim
		t.Errorf("PruneChecks removed %d rows, want 2", n)
	}
	finished, err := s.FinishedCheckRequests(ctx, "")
	if err != nil {
		t.Fatalf("FinishedCheckRequests: %v", err)
	}
	var left []string
	for _, f := range finished {
		left = append(left, f.Request.Key.PlanID)
	}
	if diff := cmp.Diff([]string{"plan-done-at-cutoff", "plan-done-recent"}, left); diff != "" {
		t.Errorf("done requests left after prune (-want +got):\n%s", diff)
	}
	pending, err := s.PendingCheckRequests(ctx, "p")
	if err != nil || len(pending) != 1 || pending[0].Key != key("pending-old") {
		t.Errorf("PendingCheckRequests after prune: got %+v, %v; want pending-old alone", pending, err)
	}
	for _, sd := range seed[:3] {
		ok, err := s.ClaimCallback(ctx, key(sd.id), "succeeded", base)
		if want := sd.id == "done-old"; err != nil || ok != want {
			t.Errorf("ClaimCallback(%q) after prune: got %v, %v; want %v, nil", sd.id, ok, err, want)
		}
	}
	if n, err := s.PruneChecks(ctx, base.Add(-2*time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneChecks before every row: got %d, %v; want 0, nil", n, err)
	}
}
