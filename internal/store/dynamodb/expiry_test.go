package dynamodb_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
	"github.com/adofleet/adofleet/internal/store/dynamodb/dynalitetest"
)

// rawItems reads every item of table, keyed by "pk/sk", as the table holds them. Tests may
// Scan; the store may not.
func rawItems(t *testing.T, table string) map[string]map[string]types.AttributeValue {
	t.Helper()
	client := dynalitetest.Require(t, emu, emuErr).Client()
	out, err := client.Scan(t.Context(), &ddb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("Scan(%s): %v", table, err)
	}
	items := map[string]map[string]types.AttributeValue{}
	for _, it := range out.Items {
		pk := it["pk"].(*types.AttributeValueMemberS).Value
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		items[pk+"/"+sk] = it
	}
	return items
}

// ttlOf returns an item's ttl attribute in epoch seconds, or -1 if it has none.
func ttlOf(t *testing.T, it map[string]types.AttributeValue) int64 {
	t.Helper()
	v, ok := it["ttl"]
	if !ok {
		return -1
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("ttl is %T, want a Number (DynamoDB ignores any other type)", v)
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		t.Fatalf("ttl %q: %v", n.Value, err)
	}
	return i
}

// TestExpiry checks which records carry the TTL attribute, and when they expire: finished ones
// only (a done check request included), and never a callback claim.
func TestExpiry(t *testing.T) {
	t.Parallel()
	client, table := newTable(t, "expiry")
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := open(t, client, table, dynamodb.Options{
		Now: func() time.Time { return now }, AgentRetention: time.Hour, DecisionRetention: 24 * time.Hour,
		DedupRetention: 48 * time.Hour, CheckRetention: 72 * time.Hour,
	})
	ctx := t.Context()
	expires := time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)

	for _, st := range []store.AgentState{store.StateRegistered, store.StateGone} {
		if err := s.CreateAgent(ctx, store.AgentRecord{Name: "agent-" + string(st), Pool: "linux", State: st}); err != nil {
			t.Fatalf("CreateAgent: %v", err)
		}
	}
	// A record that becomes gone by an update expires too; one that comes back does not.
	if err := s.CreateAgent(ctx, store.AgentRecord{Name: "agent-updated", Pool: "linux", State: store.StateDraining}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	if _, err := s.UpdateAgent(ctx, store.AgentRecord{Name: "agent-updated", Pool: "linux", State: store.StateGone, Version: 1}); err != nil {
		t.Fatalf("UpdateAgent: %v", err)
	}
	for id, exp := range map[string]time.Time{"i-expiring": expires, "i-kept": {}} {
		if err := s.CreateVM(ctx, store.VMRecord{InstanceID: id, Project: "p", Environment: "e", State: store.VMGone, ExpiresAt: exp}); err != nil {
			t.Fatalf("CreateVM: %v", err)
		}
	}
	for _, m := range []store.OutboxMessage{
		{ID: "pending", Route: "ops", ExpiresAt: expires},
		{ID: "delivered", Route: "ops", DedupKey: "alert", CreatedAt: now},
		{ID: "delivered-kept", Route: "ops"},
	} {
		if _, err := s.EnqueueMessage(ctx, m, time.Time{}); err != nil {
			t.Fatalf("EnqueueMessage(%s): %v", m.ID, err)
		}
	}
	for id, exp := range map[string]time.Time{"delivered": expires, "delivered-kept": {}} {
		m, err := s.GetMessage(ctx, id)
		if err != nil {
			t.Fatalf("GetMessage: %v", err)
		}
		m.State, m.ExpiresAt = store.OutboxDelivered, exp
		if _, err := s.UpdateMessage(ctx, m); err != nil {
			t.Fatalf("UpdateMessage: %v", err)
		}
	}
	if err := s.AppendDecision(ctx, store.Decision{Time: now.Add(-time.Hour), Pool: "linux", Action: "launch"}); err != nil {
		t.Fatalf("AppendDecision: %v", err)
	}
	if _, err := s.ClaimCallback(ctx, store.CallbackKey{PlanID: "p", JobID: "j", TaskInstanceID: "t"}, "succeeded", now); err != nil {
		t.Fatalf("ClaimCallback: %v", err)
	}

	for _, plan := range []string{"waiting", "answered"} {
		r := store.CheckRequest{Key: store.CallbackKey{PlanID: plan, JobID: "j", TaskInstanceID: "t"}, Pool: "linux", ReceivedAt: now}
		if _, err := s.PutCheckRequest(ctx, r); err != nil {
			t.Fatalf("PutCheckRequest: %v", err)
		}
	}
	answered := store.CallbackKey{PlanID: "answered", JobID: "j", TaskInstanceID: "t"}
	if err := s.DoneCheckRequest(ctx, answered, store.CheckOutcome{Result: "succeeded", At: now}); err != nil {
		t.Fatalf("DoneCheckRequest: %v", err)
	}

	got := map[string]int64{}
	for _, it := range rawItems(t, table) {
		kind := it["pk"].(*types.AttributeValueMemberS).Value
		switch kind {
		case "check":
			got["check/"+it["planId"].(*types.AttributeValueMemberS).Value] = ttlOf(t, it)
		case "agent", "vm", "outbox":
			got[kind+"/"+it["sk"].(*types.AttributeValueMemberS).Value] = ttlOf(t, it)
		case "decision":
			got["decision"] = ttlOf(t, it)
		default: // callback# and dedup# partitions are hashes
			got[kind[:len(kind)-64]] = ttlOf(t, it)
		}
	}
	want := map[string]int64{
		"agent/agent-registered": -1,
		"agent/agent-gone":       now.Add(time.Hour).Unix(),
		"agent/agent-updated":    now.Add(time.Hour).Unix(),
		"vm/i-expiring":          expires.Unix(),
		"vm/i-kept":              -1,
		"outbox/pending":         -1, // never, whatever its ExpiresAt: it is not delivered yet
		"outbox/delivered":       expires.Unix(),
		"outbox/delivered-kept":  -1,
		"decision":               now.Add(24 * time.Hour).Unix(),
		"callback#":              -1,
		"dedup#":                 now.Add(48 * time.Hour).Unix(),
		"check/waiting":          -1, // never while pending: it holds the token the callback needs
		"check/answered":         now.Add(72 * time.Hour).Unix(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ttl by item, -1 for none (-want +got):\n%s", diff)
	}
}
