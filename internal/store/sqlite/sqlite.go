package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/adofleet/adofleet/internal/store"
)

var _ store.Store = (*Store)(nil)

// Options tunes a store; the zero value is a good default.
type Options struct {
	// BusyTimeout is how long a statement waits for another process's lock before failing
	// (default 5s).
	BusyTimeout time.Duration
	// Synchronous is the durability level: "NORMAL" (default) or "FULL". See the package comment.
	Synchronous string
	// MaxReaders caps the read connections that run beside the single writer (default 4).
	MaxReaders int
	// Logger receives migration notices; nil discards them.
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// ReadOnly opens an existing database for reading only: nothing is created or migrated,
	// every connection is query-only (a write fails), and a database whose schema is not the
	// one this binary writes is refused rather than migrated. adofleet status opens the store so:
	// it may run a newer adofleet against a database a running serve owns.
	ReadOnly bool
}

func (o Options) withDefaults() (Options, error) {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	switch strings.ToUpper(o.Synchronous) {
	case "":
		o.Synchronous = "NORMAL"
	case "NORMAL", "FULL":
		o.Synchronous = strings.ToUpper(o.Synchronous)
	default:
		return o, fmt.Errorf("synchronous %q: want NORMAL or FULL", o.Synchronous)
	}
	if o.MaxReaders <= 0 {
		o.MaxReaders = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Store is the SQLite state store. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // exactly one connection: writes are serialized in this process
	r    *sql.DB // read connections; WAL lets them run while the writer writes
	m    *metrics
	// agents caches ListAgents while the database is unchanged (listcache.go); it holds one
	// connection of r.
	agents *agentCache
}

// Open opens (creating if absent) the database at path and brings its schema up to date.
// path must name a file: in-memory databases are not supported, since the writer and the
// readers are separate connections.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	return open(ctx, path, opts, len(migrations))
}

func open(ctx context.Context, path string, opts Options, schema int) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("sqlite: open %q read-only: %w", path, err)
		}
	}
	if err := checkPath(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	log := opts.Logger.With("component", "store", "backend", "sqlite", "path", path)

	w, err := sql.Open("sqlite", dsn(path, opts, !opts.ReadOnly))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, explain(err))
	}
	check := func() error { return migrate(ctx, w, schema, log) }
	if opts.ReadOnly {
		check = func() error { return requireSchema(ctx, w, schema) }
	}
	if err := check(); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, explain(err))
	}

	r, err := sql.Open("sqlite", dsn(path, opts, false))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %q readers: %w", path, err)
	}
	r.SetMaxOpenConns(opts.MaxReaders + 1) // +1: the list cache's own
	r.SetMaxIdleConns(opts.MaxReaders)
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open %q: %w", path, err), r.Close(), w.Close())
	}
	return &Store{path: path, w: w, r: r, m: m, agents: newAgentCache(r)}, nil
}

// dsn is the driver's data source name: the file path, then per-connection settings.
func dsn(path string, opts Options, writer bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", opts.Synchronous)
	if writer {
		q.Set("_journal_mode", "WAL") // persistent in the file; set once by the writer
		q.Set("_txlock", "immediate") // take the write lock at BEGIN, not at the first write
	} else {
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode()
}

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// ErrNotDatabase: the file at the path exists and is not an SQLite database. Open leaves it
// untouched.
var ErrNotDatabase = errors.New("file exists and is not an SQLite database")

// checkPath rejects paths the driver would misread and files that are not databases, before
// SQLite writes anything (setting WAL mode on a foreign file must not touch it). It creates
// the parent directory if missing.
func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("empty path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return errors.New("want a file path, not an SQLite URI or :memory:")
	case strings.ContainsRune(path, '?'):
		return errors.New("path contains '?'")
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory")
	}
	if st.Size() == 0 {
		return nil // SQLite treats an empty file as a new database
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteHeader) {
		return ErrNotDatabase
	}
	return nil
}

// explain maps SQLite's codes for a damaged file to ErrNotDatabase, so a caller sees one clear
// error whether the header or a later page is bad.
func explain(err error) error {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("%w: %w", ErrNotDatabase, err)
		}
	}
	return err
}

// SchemaVersion is the number of the last migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	v, err := schemaVersion(ctx, s.r)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return v, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the connections; the WAL is checkpointed into the file by the last one.
func (s *Store) Close() error {
	return errors.Join(s.agents.close(), s.r.Close(), s.w.Close())
}
