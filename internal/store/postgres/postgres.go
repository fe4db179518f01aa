package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store"
)

var _ store.Store = (*Store)(nil)

// DefaultSchema is the schema the tables live in when Options.Schema is empty.
const DefaultSchema = "adofleet"

// Options tunes a store; the zero value is a good default.
type Options struct {
	// Schema holds adofleet's tables (default "adofleet"); Open creates it if missing. Several
	// controllers that must not share state can use one database with different schemas.
	Schema string
	// MaxConns caps the pool's connections (default: the URL's pool_max_conns, else 4).
	MaxConns int
	// Timeout is the server-side statement_timeout (default 30s): a statement still running
	// then is aborted by the server, so the caller knows it changed nothing. Every call also
	// gives up client side a second later, for a server that stopped answering.
	// A caller's own earlier deadline wins.
	Timeout time.Duration
	// Logger receives migration notices; nil discards them.
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now is the clock PruneExpired prunes at (default time.Now).
	Now func() time.Time
	// ReadOnly opens the schema for reading only: nothing is created or migrated, every
	// transaction is read-only (a write fails), and a schema that is not at the version this
	// binary writes is refused rather than migrated (adofleet status).
	ReadOnly bool
}

func (o Options) withDefaults() (Options, error) {
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if len(o.Schema) > 63 || strings.ContainsRune(o.Schema, 0) {
		return o, fmt.Errorf("schema %q: want at most 63 bytes and no NUL", o.Schema)
	}
	if o.MaxConns < 0 {
		return o, fmt.Errorf("maxConns %d: want 0 (default) or more", o.MaxConns)
	}
	if o.Timeout < 0 {
		return o, fmt.Errorf("timeout %v: want 0 (default) or more", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Store is the PostgreSQL state store. It is safe for concurrent use, by several goroutines and
// by several processes (controller replicas) sharing one schema.
type Store struct {
	pool    *pgxpool.Pool
	schema  string
	timeout time.Duration
	now     func() time.Time
	names   *strings.Replacer // "{s}." in a query -> the quoted schema name
	m       *metrics
}

// Open connects to the database at url (a postgres:// URL or a key=value connection string),
// creates the schema if missing and brings its tables up to date. The URL's password never
// appears in a returned error or a log line.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	return open(ctx, url, opts, len(migrations))
}

func open(ctx context.Context, url string, opts Options, upTo int) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	secrets := passwords(url)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// Not wrapped: the parser's error chain can hold the raw URL.
		return nil, errors.New(redactString("postgres: parse connection url: "+err.Error(), secrets))
	}
	if p := cfg.ConnConfig.Password; p != "" {
		secrets = append(secrets, p)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = int32(min(opts.MaxConns, 1<<20))
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = 4 // pgxpool's default grows with the CPUs; a controller needs few
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	// The server stops a statement the client lost track of; the client's context stops the rest.
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.Timeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["application_name"] = "adofleet"
	if opts.ReadOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > opts.Timeout {
		cfg.ConnConfig.ConnectTimeout = opts.Timeout
	}
	where := fmt.Sprintf("%s/%s schema %s", cfg.ConnConfig.Host, cfg.ConnConfig.Database, opts.Schema)
	log := opts.Logger.With("component", "store", "backend", "postgres",
		"host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database, "schema", opts.Schema)

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres: open %s: %w", where, err), secrets)
	}
	s := &Store{
		pool:    pool,
		schema:  opts.Schema,
		timeout: opts.Timeout,
		now:     opts.Now,
		names:   strings.NewReplacer("{s}.", pgx.Identifier{opts.Schema}.Sanitize()+"."),
	}
	mctx, cancel := s.bound(ctx)
	defer cancel()
	check := func() error { return s.migrate(mctx, upTo, log) }
	if opts.ReadOnly {
		check = func() error { return s.requireSchema(mctx, upTo) }
	}
	if err := check(); err != nil {
		pool.Close()
		return nil, redact(fmt.Errorf("postgres: open %s: %w", where, err), secrets)
	}
	if s.m, err = newMetrics(opts.Registerer); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}
	return s, nil
}

// bound gives a call the store's client-side limit unless the caller's context ends sooner.
// The limit is a little past the statement_timeout so that, with a live server, a slow
// statement ends with the server's definite "canceled, nothing changed" rather than a client
// timeout that cannot tell whether an autocommit write landed.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout+time.Second)
}

// q qualifies the table names of a query ("{s}.agents") with the store's schema.
func (s *Store) q(query string) string { return s.names.Replace(query) }

// Schema is the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// SchemaVersion is the number of the last migration applied to the schema.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	v, err := schemaVersion(ctx, s.pool, s)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	return v, nil
}

// Close closes the pool's connections, waiting for the ones in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
