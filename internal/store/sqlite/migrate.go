package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/adofleet/adofleet/internal/store/storemigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the embedded schema changes in order; storemigrate has checked they are
// numbered 1..n without gaps.
var migrations = storemigrate.MustLoad(migrationFiles, "sqlite")

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`

// migrate applies migrations up to and including version upTo, each in its own transaction.
// The current version is re-read inside each transaction, so two processes opening the same new
// file at once apply each migration once.
func migrate(ctx context.Context, db *sql.DB, upTo int, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	cur, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if cur > len(migrations) {
		return fmt.Errorf("database schema is at version %d, newer than this binary knows (%d): run a newer adofleet", cur, len(migrations))
	}
	for _, m := range migrations[:upTo] {
		applied, err := applyOne(ctx, db, m)
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			log.Info("applied schema migration", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// applyOne applies m unless the database is already at or past it.
func applyOne(ctx context.Context, db *sql.DB, m storemigrate.Migration) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see the writer's DSN
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	cur, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	if cur >= m.Version {
		return false, tx.Rollback()
	}
	if cur != m.Version-1 {
		return false, fmt.Errorf("database is at version %d, cannot apply %d", cur, m.Version)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("apply: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return false, fmt.Errorf("record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// requireSchema fails unless the database's schema is at exactly migration want, reading only:
// a read-only store can neither migrate an older schema nor read a newer one safely.
func requireSchema(ctx context.Context, db *sql.DB, want int) error {
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return fmt.Errorf("look up schema_migrations: %w", err)
	}
	cur := 0
	if tables > 0 {
		var err error
		if cur, err = schemaVersion(ctx, db); err != nil {
			return err
		}
	}
	return storemigrate.RequireVersion(cur, want)
}

// schemaVersion is the highest applied migration, 0 for a new database.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
