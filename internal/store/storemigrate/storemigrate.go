// Package storemigrate reads a SQL store's numbered schema changes, migrations/NNNN_name.sql,
// from an fs.FS (the backend's embedded files) in order. Applying them is the backend's own:
// sqlite and postgres lock, record and roll back differently.
package storemigrate

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one numbered schema change, from migrations/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the migrations/*.sql files of fsys, ordered by number, and checks they are
// numbered 1..n without gaps or repeats.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql", n)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", n, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations are not numbered 1..%d: found %04d_%s at position %d", len(ms), m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// MustLoad is Load for a backend's embedded files, where an error is a build defect (caught by
// every test of the backend): it panics, the error prefixed with backend.
func MustLoad(fsys fs.FS, backend string) []Migration {
	ms, err := Load(fsys)
	if err != nil {
		panic(fmt.Errorf("%s: %w", backend, err))
	}
	return ms
}

// RequireVersion is what a read-only store says of a schema at version cur when this binary
// writes version want: nil when they match, else what to do. A read-only open can neither
// migrate an older schema nor safely read a newer one.
func RequireVersion(cur, want int) error {
	switch {
	case cur < want:
		return fmt.Errorf("schema is at version %d, older than this binary's (%d), and a read-only open does not migrate: run this version's adofleet serve once, or the adofleet that wrote it", cur, want)
	case cur > want:
		return fmt.Errorf("schema is at version %d, newer than this binary knows (%d): run a newer adofleet", cur, want)
	}
	return nil
}
