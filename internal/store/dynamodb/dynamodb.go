package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store"
)

var _ store.Store = (*Store)(nil)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client implements it. It has
// no Scan on purpose: every read goes by key.
type API interface {
	GetItem(ctx context.Context, in *ddb.GetItemInput, opts ...func(*ddb.Options)) (*ddb.GetItemOutput, error)
	PutItem(ctx context.Context, in *ddb.PutItemInput, opts ...func(*ddb.Options)) (*ddb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *ddb.DeleteItemInput, opts ...func(*ddb.Options)) (*ddb.DeleteItemOutput, error)
	Query(ctx context.Context, in *ddb.QueryInput, opts ...func(*ddb.Options)) (*ddb.QueryOutput, error)
	DescribeTable(ctx context.Context, in *ddb.DescribeTableInput, opts ...func(*ddb.Options)) (*ddb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *ddb.CreateTableInput, opts ...func(*ddb.Options)) (*ddb.CreateTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *ddb.DescribeTimeToLiveInput, opts ...func(*ddb.Options)) (*ddb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *ddb.UpdateTimeToLiveInput, opts ...func(*ddb.Options)) (*ddb.UpdateTimeToLiveOutput, error)
}

// Defaults of Options.
const (
	DefaultCallTimeout       = 10 * time.Second
	DefaultAgentRetention    = 7 * 24 * time.Hour
	DefaultDecisionRetention = 30 * 24 * time.Hour
	DefaultDedupRetention    = 7 * 24 * time.Hour
	DefaultCheckRetention    = 7 * 24 * time.Hour
	DefaultMaxAttempts       = 8
)

// Options configures a Store. Table and Client are required.
type Options struct {
	// Table is the table's name.
	Table string
	// Client talks to DynamoDB, e.g. NewClient(awsConfig, ClientOptions{}).
	Client API
	// CallTimeout bounds each DynamoDB call, the SDK's retries included (default 10s).
	CallTimeout time.Duration
	// AgentRetention is how long a gone agent record is kept (default 7 days).
	AgentRetention time.Duration
	// DecisionRetention is how long a decision is kept (default 30 days).
	DecisionRetention time.Duration
	// DedupRetention is how long an outbox dedup marker is kept; keep it above the longest
	// dedup window callers use (default 7 days).
	DedupRetention time.Duration
	// CheckRetention is how long a finished check request is kept (default 7 days); pending
	// ones are kept until they are done.
	CheckRetention time.Duration
	// Logger receives notices; nil discards them.
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now is the clock that dates expiries and decision order (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Table == "" {
		return o, errors.New("empty table name")
	}
	if o.Client == nil {
		return o, errors.New("no client")
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{
		{&o.CallTimeout, DefaultCallTimeout}, {&o.AgentRetention, DefaultAgentRetention},
		{&o.DecisionRetention, DefaultDecisionRetention}, {&o.DedupRetention, DefaultDedupRetention},
		{&o.CheckRetention, DefaultCheckRetention},
	} {
		if *d.p <= 0 {
			*d.p = d.def
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// ClientOptions tunes NewClient.
type ClientOptions struct {
	// BaseEndpoint overrides the regional endpoint (VPC endpoints, emulators).
	BaseEndpoint string
	// MaxAttempts per call by the SDK's retryer, the first included (default 8). Throttling and
	// transient errors are retried with jittered backoff, within Options.CallTimeout.
	MaxAttempts int
}

// NewClient returns a DynamoDB client for cfg with the store's retry policy.
func NewClient(cfg aws.Config, co ClientOptions) *ddb.Client {
	if co.MaxAttempts <= 0 {
		co.MaxAttempts = DefaultMaxAttempts
	}
	return ddb.NewFromConfig(cfg, func(o *ddb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = co.MaxAttempts })
		if co.BaseEndpoint != "" {
			o.BaseEndpoint = aws.String(co.BaseEndpoint)
		}
	})
}

// Store is the DynamoDB state store. It is safe for concurrent use; any number of stores, in
// any number of processes, may share one table.
type Store struct {
	opts  Options
	table *string
	log   *slog.Logger
	m     *metrics
	seq   *sequence
}

// Open returns a store on an existing table; it checks the table's key schema (EnsureTable
// creates the table first, for development). It makes one DescribeTable call.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("dynamodb: open: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: open table %q: %w", opts.Table, err)
	}
	s := &Store{
		opts: opts, table: aws.String(opts.Table), m: m, seq: newSequence(opts.Now),
		log: opts.Logger.With("component", "store", "backend", "dynamodb", "table", opts.Table),
	}
	if err := s.checkTable(ctx); err != nil {
		return nil, fmt.Errorf("dynamodb: open table %q: %w", opts.Table, err)
	}
	return s, nil
}

// Table is the table's name.
func (s *Store) Table() string { return s.opts.Table }

// Close releases nothing: the client is the caller's.
func (s *Store) Close() error { return nil }

// call runs fn under the call timeout.
func (s *Store) call(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	return fn(ctx)
}

// conditionFailed reports whether err is a lost conditional write.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// get reads one item by key, strongly consistent; nil if absent.
func (s *Store) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	var out *ddb.GetItemOutput
	err := s.call(ctx, func(ctx context.Context) (err error) {
		out, err = s.opts.Client.GetItem(ctx, &ddb.GetItemInput{
			TableName: s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// create puts item if no item has its key; ErrConflict otherwise (ErrFenced: see fence.go).
func (s *Store) create(ctx context.Context, item map[string]types.AttributeValue) error {
	g, err := s.guard(ctx)
	if err != nil {
		return err
	}
	in := &ddb.PutItemInput{
		TableName: s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}
	g.put(in)
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.opts.Client.PutItem(ctx, in)
		return err
	})
	if conditionFailed(err) {
		if err := g.failed(ctx); err != nil {
			return err
		}
		return store.ErrConflict
	}
	return err
}

// replace puts item (whose version attribute is already version+1) if the stored item has
// version; ErrConflict if it has another, ErrNotFound if there is none (ErrFenced: see fence.go).
func (s *Store) replace(ctx context.Context, item map[string]types.AttributeValue, version int64) error {
	g, err := s.guard(ctx)
	if err != nil {
		return err
	}
	in := &ddb.PutItemInput{
		TableName: s.table, Item: item,
		ConditionExpression:       aws.String("attribute_exists(pk) AND version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)},
	}
	g.put(in)
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.opts.Client.PutItem(ctx, in)
		return err
	})
	if !conditionFailed(err) {
		return err
	}
	if err := g.failed(ctx); err != nil {
		return err
	}
	// Tell a moved version from a missing record. A record deleted or created in between is
	// reported as what it is now, which is what a retry would find.
	cur, err := s.get(ctx, str(item["pk"]), str(item["sk"]))
	switch {
	case err != nil:
		return err
	case cur == nil:
		return store.ErrNotFound
	}
	return fmt.Errorf("have version %d, stored %s: %w", version, numStr(cur["version"]), store.ErrConflict)
}

// remove deletes an item by key; an absent item is not an error (ErrFenced: see fence.go).
func (s *Store) remove(ctx context.Context, pk, sk string) error {
	g, err := s.guard(ctx)
	if err != nil {
		return err
	}
	in := &ddb.DeleteItemInput{TableName: s.table, Key: key(pk, sk)}
	g.del(in)
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.opts.Client.DeleteItem(ctx, in)
		return err
	})
	if conditionFailed(err) { // only the fence conditions a delete
		if err := g.failed(ctx); err != nil {
			return err
		}
		return fmt.Errorf("item %s/%s was written under a newer fencing token: %w", pk, sk, store.ErrFenced)
	}
	return err
}

// query runs q to the end (or until limit items, if limit > 0), page by page, each page a call
// under the timeout.
func (s *Store) query(ctx context.Context, q *ddb.QueryInput, limit int) ([]map[string]types.AttributeValue, error) {
	q.TableName, q.ConsistentRead = s.table, aws.Bool(true)
	var items []map[string]types.AttributeValue
	for {
		if limit > 0 {
			q.Limit = aws.Int32(int32(min(limit-len(items), 1000)))
		}
		var out *ddb.QueryOutput
		err := s.call(ctx, func(ctx context.Context) (err error) {
			out, err = s.opts.Client.Query(ctx, q)
			return err
		})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 || (limit > 0 && len(items) >= limit) {
			return items, nil
		}
		q.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// expiry is the ttl attribute for a record that may go at t.
func expiry(t time.Time) int64 { return t.Unix() }
