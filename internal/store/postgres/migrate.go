package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change, from migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the embedded schema changes in order, numbered 1..n without gaps.
var migrations = mustLoadMigrations()

func mustLoadMigrations() []migration {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		panic(err) // a build defect, caught by every test of this package
	}
	return ms
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("postgres: list migrations: %w", err)
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("postgres: migration file %q: want NNNN_name.sql", n)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("postgres: read migration %q: %w", n, err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migrations are not numbered 1..%d: found %04d_%s at position %d", len(ms), m.version, m.name, i+1)
		}
	}
	return ms, nil
}

// migrationLockClass is the first key of the advisory lock migrations take (the second is the
// schema name's hash), so adofleet's lock cannot collide with another application's.
const migrationLockClass = 0x41444f46 // "ADOF"

// migrate brings the schema up to migration upTo in one transaction, under a transaction-level
// advisory lock: two controllers starting at once serialize here, and the second finds the
// work done. A failure rolls everything back, leaving the schema as it was.
func (s *Store) migrate(ctx context.Context, upTo int, log *slog.Logger) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, migrationLockClass, s.schema); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	// CREATE SCHEMA needs the CREATE privilege on the database even with IF NOT EXISTS; skip it
	// when a DBA created the schema for us.
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, s.schema).Scan(&exists); err != nil {
		return fmt.Errorf("migrate: look up schema: %w", err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return fmt.Errorf("migrate: create schema: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, s.q(`CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	cur, err := schemaVersion(ctx, tx, s)
	if err != nil {
		return err
	}
	if cur > len(migrations) {
		return fmt.Errorf("schema is at version %d, newer than this binary knows (%d): run a newer adofleet", cur, len(migrations))
	}
	if cur >= upTo {
		return tx.Commit(ctx)
	}
	// The migration files name tables without a schema.
	if _, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, pgx.Identifier{s.schema}.Sanitize()); err != nil {
		return fmt.Errorf("migrate: set search_path: %w", err)
	}
	for _, m := range migrations[cur:upTo] {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(ctx, s.q(`INSERT INTO {s}.schema_migrations (version, name) VALUES ($1, $2)`), m.version, m.name); err != nil {
			return fmt.Errorf("migration %04d_%s: record: %w", m.version, m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	for _, m := range migrations[cur:upTo] {
		log.Info("applied schema migration", "version", m.version, "name", m.name)
	}
	return nil
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion is the highest applied migration, 0 for a new schema.
func schemaVersion(ctx context.Context, q rowQuerier, s *Store) (int, error) {
	var v int
	err := q.QueryRow(ctx, s.q(`SELECT COALESCE(MAX(version), 0) FROM {s}.schema_migrations`)).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
