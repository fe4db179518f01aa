package postgres

import (
	"context"
	"embed"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/adofleet/adofleet/internal/store/storemigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the embedded schema changes in order, numbered 1..n without gaps.
var migrations = storemigrate.MustLoad(migrationFiles, "postgres")

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
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, s.q(`INSERT INTO {s}.schema_migrations (version, name) VALUES ($1, $2)`), m.Version, m.Name); err != nil {
			return fmt.Errorf("migration %04d_%s: record: %w", m.Version, m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	for _, m := range migrations[cur:upTo] {
		log.Info("applied schema migration", "version", m.Version, "name", m.Name)
	}
	return nil
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// requireSchema fails unless the schema is at exactly migration want, reading only: a read-only
// store can neither migrate an older schema nor read a newer one safely.
func (s *Store) requireSchema(ctx context.Context, want int) error {
	var table *string
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1)::text`, pgx.Identifier{s.schema, "schema_migrations"}.Sanitize()).Scan(&table); err != nil {
		return fmt.Errorf("look up schema_migrations: %w", err)
	}
	cur := 0
	if table != nil {
		var err error
		if cur, err = schemaVersion(ctx, s.pool, s); err != nil {
			return err
		}
	}
	return storemigrate.RequireVersion(cur, want)
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
