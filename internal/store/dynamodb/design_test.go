package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
	"github.com/adofleet/adofleet/internal/store/dynamodb/dynalitetest"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

// counting wraps a client and adds up the items each Query read (ScannedCount: what a query
// pays for, before any filter).
type counting struct {
	dynamodb.API
	mu      sync.Mutex
	scanned int32
}

func (c *counting) Query(ctx context.Context, in *ddb.QueryInput, opts ...func(*ddb.Options)) (*ddb.QueryOutput, error) {
	out, err := c.API.Query(ctx, in, opts...)
	if err == nil {
		c.mu.Lock()
		c.scanned += out.ScannedCount
		c.mu.Unlock()
	}
	return out, err
}

func (c *counting) take() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.scanned
	c.scanned = 0
	return n
}

// TestListsReadOnlyWhatTheyReturn checks the key design: listing one pool, one Environment, the
// newest decisions, the due messages or the pending check requests reads only the matching items,
// however many others the table holds.
func TestListsReadOnlyWhatTheyReturn(t *testing.T) {
	t.Parallel()
	client, table := newTable(t, "reads")
	c := &counting{API: client}
	s := open(t, c, table, dynamodb.Options{})
	ctx := t.Context()
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range 40 {
		pool := "busy"
		if i < 2 {
			pool = "quiet"
		}
		if err := s.CreateAgent(ctx, store.AgentRecord{Name: fmt.Sprintf("agent-%02d", i), Pool: pool, State: store.StateRegistered}); err != nil {
			t.Fatalf("CreateAgent: %v", err)
		}
		if err := s.AppendDecision(ctx, store.Decision{Time: base.Add(time.Duration(i) * time.Second), Pool: pool, Action: "launch"}); err != nil {
			t.Fatalf("AppendDecision: %v", err)
		}
		project := "big"
		if i < 3 {
			project = "small"
		}
		if err := s.CreateVM(ctx, store.VMRecord{InstanceID: fmt.Sprintf("i-%02d", i), Project: project, Environment: "prod", State: store.VMRegistered}); err != nil {
			t.Fatalf("CreateVM: %v", err)
		}
		next := base.Add(time.Hour) // not due yet
		if i < 4 {
			next = base
		}
		if _, err := s.EnqueueMessage(ctx, store.OutboxMessage{ID: fmt.Sprintf("m-%02d", i), Route: "ops", NextAttempt: next}, time.Time{}); err != nil {
			t.Fatalf("EnqueueMessage: %v", err)
		}
		key := store.CallbackKey{PlanID: fmt.Sprintf("plan-%02d", i), JobID: "job", TaskInstanceID: "task"}
		if _, err := s.PutCheckRequest(ctx, store.CheckRequest{Key: key, Pool: pool, ReceivedAt: base}); err != nil {
			t.Fatalf("PutCheckRequest: %v", err)
		}
		if i%2 == 1 { // half of them done: quiet has one pending and one done, busy 19 of each
			if err := s.DoneCheckRequest(ctx, key, store.CheckOutcome{Result: "succeeded", At: base}); err != nil {
				t.Fatalf("DoneCheckRequest: %v", err)
			}
		}
	}
	c.take()
	tests := []struct {
		name string
		call func() (int, error)
		want int32
	}{
		{"agents of the quiet pool", func() (int, error) { r, err := s.ListAgents(ctx, "quiet"); return len(r), err }, 2},
		{"newest decision of all pools", func() (int, error) { r, err := s.ListDecisions(ctx, "", 1); return len(r), err }, 1},
		{"newest 3 decisions of the busy pool", func() (int, error) { r, err := s.ListDecisions(ctx, "busy", 3); return len(r), err }, 3},
		{"decisions of the quiet pool", func() (int, error) { r, err := s.ListDecisions(ctx, "quiet", 0); return len(r), err }, 2},
		{"VMs of the small project", func() (int, error) {
			r, err := s.ListVMs(ctx, store.VMFilter{Project: "small", Environment: "prod"})
			return len(r), err
		}, 3},
		{"due messages", func() (int, error) { r, err := s.DueMessages(ctx, base, 0); return len(r), err }, 4},
		{"first due message", func() (int, error) { r, err := s.DueMessages(ctx, base, 1); return len(r), err }, 1},
		{"pending checks of the quiet pool", func() (int, error) { r, err := s.PendingCheckRequests(ctx, "quiet"); return len(r), err }, 1},
		{"pending checks of all pools", func() (int, error) { r, err := s.PendingCheckRequests(ctx, ""); return len(r), err }, 20},
		{"finished checks of the quiet pool", func() (int, error) { r, err := s.FinishedCheckRequests(ctx, "quiet"); return len(r), err }, 1},
	}
	for _, tc := range tests {
		n, err := tc.call()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n != int(tc.want) {
			t.Errorf("%s: got %d records, want %d", tc.name, n, tc.want)
		}
		if got := c.take(); got != tc.want {
			t.Errorf("%s: read %d items, want %d (only those returned)", tc.name, got, tc.want)
		}
	}
}

// TestEnqueueRestoresDedupMarker checks that an enqueue refused for its ID leaves the dedup
// window as it was: it neither suppresses the next copy of its alert nor frees an alert that an
// earlier message still holds.
func TestEnqueueRestoresDedupMarker(t *testing.T) {
	t.Parallel()
	client, table := newTable(t, "dedup-restore")
	s := open(t, client, table, dynamodb.Options{})
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	msg := func(id, key string, at time.Time) store.OutboxMessage {
		return store.OutboxMessage{ID: id, Route: "ops", DedupKey: key, CreatedAt: at}
	}
	enqueue := func(m store.OutboxMessage, since time.Time) (bool, error) {
		return s.EnqueueMessage(ctx, m, since)
	}
	if ok, err := enqueue(msg("taken", "", t0), time.Time{}); !ok || err != nil {
		t.Fatalf("EnqueueMessage(taken): got %v, %v", ok, err)
	}
	if ok, err := enqueue(msg("held", "old-alert", t0), time.Time{}); !ok || err != nil {
		t.Fatalf("EnqueueMessage(held): got %v, %v", ok, err)
	}
	steps := []struct {
		name    string
		m       store.OutboxMessage
		since   time.Time
		want    bool
		wantErr error
	}{
		{"new alert under a taken ID", msg("taken", "new-alert", t0.Add(time.Minute)), time.Time{}, false, store.ErrConflict},
		{"the new alert is not suppressed by it", msg("fresh", "new-alert", t0.Add(2*time.Minute)), time.Time{}, true, nil},
		{"old alert, past its window, under a taken ID", msg("taken", "old-alert", t0.Add(time.Hour)), t0.Add(time.Minute), false, store.ErrConflict},
		{"the old alert is still held by its first message", msg("again", "old-alert", t0.Add(time.Hour)), t0, false, nil},
	}
	for _, st := range steps {
		ok, err := enqueue(st.m, st.since)
		if ok != st.want || !errors.Is(err, st.wantErr) {
			t.Errorf("%s: EnqueueMessage(%s): got %v, %v; want %v, %v", st.name, st.m.ID, ok, err, st.want, st.wantErr)
		}
	}
}

func TestOpenChecksTheTable(t *testing.T) {
	t.Parallel()
	client := dynalitetest.Require(t, emu, emuErr).Client()
	// Another application's table: same name space, other keys.
	foreign := fmt.Sprintf("foreign-%p", t)
	if _, err := client.CreateTable(t.Context(), &ddb.CreateTableInput{
		TableName:   aws.String(foreign),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	tests := []struct {
		name  string
		opts  dynamodb.Options
		wants string
	}{
		{"missing table", dynamodb.Options{Table: "absent", Client: client}, "createTable"},
		{"foreign table", dynamodb.Options{Table: foreign, Client: client}, "key schema"},
		{"no table name", dynamodb.Options{Client: client}, "empty table name"},
		{"no client", dynamodb.Options{Table: "absent"}, "no client"},
	}
	for _, tc := range tests {
		_, err := dynamodb.Open(t.Context(), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.wants) {
			t.Errorf("%s: Open: got %v, want an error mentioning %q", tc.name, err, tc.wants)
		}
	}
	// EnsureTable on an existing table changes nothing and succeeds.
	_, table := newTable(t, "twice") // created once here, then again below
	s := open(t, ensureTable(t, table), table, dynamodb.Options{})
	if err := s.CreateAgent(t.Context(), store.AgentRecord{Name: "a"}); err != nil {
		t.Errorf("CreateAgent after EnsureTable twice: %v", err)
	}
}

// hanging answers DescribeTable and blocks every other call until its context ends.
type hanging struct{ dynamodb.API }

func (hanging) DescribeTable(context.Context, *ddb.DescribeTableInput, ...func(*ddb.Options)) (*ddb.DescribeTableOutput, error) {
	key := func(h, r string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(h), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(r), KeyType: types.KeyTypeRange},
		}
	}
	return &ddb.DescribeTableOutput{Table: &types.TableDescription{
		KeySchema:             key("pk", "sk"),
		LocalSecondaryIndexes: []types.LocalSecondaryIndexDescription{{IndexName: aws.String("by-group"), KeySchema: key("pk", "lsk")}},
	}}, nil
}

func (hanging) GetItem(ctx context.Context, _ *ddb.GetItemInput, _ ...func(*ddb.Options)) (*ddb.GetItemOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hanging) PutItem(ctx context.Context, _ *ddb.PutItemInput, _ ...func(*ddb.Options)) (*ddb.PutItemOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestCallTimeout checks a call that never answers gives up after CallTimeout.
func TestCallTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		s, err := dynamodb.Open(t.Context(), dynamodb.Options{Table: "t", Client: hanging{}, CallTimeout: 3 * time.Second, Registerer: reg})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		start := time.Now()
		_, err = s.GetAgent(t.Context(), "agent-1")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("GetAgent against a hanging endpoint: got %v, want context.DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("GetAgent gave up after %v, want the call timeout 3s", got)
		}
		_, err = s.ClaimCallback(t.Context(), store.CallbackKey{PlanID: "p"}, "succeeded", start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ClaimCallback against a hanging endpoint: got %v, want context.DeadlineExceeded", err)
		}
		for op, want := range map[string]float64{"get_agent": 1, "claim_callback": 1} {
			if c := counterValue(t, reg, op, "canceled"); c != want {
				t.Errorf("adofleet_store_operations_total{operation=%q,result=canceled}: got %v, want %v", op, c, want)
			}
		}
	})
}

// counterValue reads the store's operations counter for op and result on reg.
func counterValue(t *testing.T, reg *prometheus.Registry, op, result string) float64 {
	t.Helper()
	c, found, err := storetest.OpCount(reg, "dynamodb", op, result)
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if !found {
		t.Fatalf("no adofleet_store_operations_total{backend=dynamodb,operation=%q,result=%q}", op, result)
	}
	return c
}
