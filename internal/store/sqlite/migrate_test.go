package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// rawDB opens path with the driver alone, to look at the file the way another tool would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open(%q): %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// indexes lists the named indexes in the file.
func indexes(t *testing.T, path string) []string {
	t.Helper()
	rows, err := rawDB(t, path).QueryContext(t.Context(),
		`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatalf("list indexes: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatalf("scan index: %v", err)
		}
		names = append(names, n)
	}
	return names
}

func TestUpgradeFromVersion1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := t.Context()

	old, err := sqlite.OpenAtVersion(ctx, path, sqlite.Options{}, 1)
	if err != nil {
		t.Fatalf("OpenAtVersion(1): %v", err)
	}
	if v, err := old.SchemaVersion(ctx); err != nil || v != 1 {
		t.Fatalf("SchemaVersion of the old database: got %d, %v; want 1, nil", v, err)
	}
	rec := store.AgentRecord{Name: "agent-1", Pool: "linux", State: store.StateRegistered, AgentID: 12}
	if err := old.CreateAgent(ctx, rec); err != nil {
		t.Fatalf("CreateAgent at version 1: %v", err)
	}
	if err := old.AppendDecision(ctx, store.Decision{Pool: "linux", Action: "launch", Target: "1"}); err != nil {
		t.Fatalf("AppendDecision at version 1: %v", err)
	}
	if err := old.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := indexes(t, path); len(got) != 0 {
		t.Fatalf("indexes at version 1: got %v, want none", got)
	}

	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open (upgrade): %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if v, err := s.SchemaVersion(ctx); err != nil || v != sqlite.LatestVersion() {
		t.Errorf("SchemaVersion after upgrade: got %d, %v; want %d, nil", v, err, sqlite.LatestVersion())
	}
	got, err := s.GetAgent(ctx, "agent-1")
	if err != nil {
		t.Fatalf("GetAgent after upgrade: %v", err)
	}
	rec.Version = 1
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("agent after upgrade (-want +got):\n%s", diff)
	}
	if ds, err := s.ListDecisions(ctx, "linux", 10); err != nil || len(ds) != 1 {
		t.Errorf("decisions after upgrade: got %d, %v; want 1, nil", len(ds), err)
	}
	// The tables added since version 1 are usable.
	if err := s.CreateVM(ctx, store.VMRecord{InstanceID: "i-0new", State: store.VMLaunching}); err != nil {
		t.Errorf("CreateVM after upgrade: %v", err)
	}
	if ok, err := s.EnqueueMessage(ctx, store.OutboxMessage{ID: "m1", Route: "ops", DedupKey: "k"}, time.Time{}); err != nil || !ok {
		t.Errorf("EnqueueMessage after upgrade: got %v, %v; want true, nil", ok, err)
	}
	want := []string{
		"agents_gone_updated", "agents_pool_state", "check_requests_pending", "decisions_pool_time", "decisions_time",
		"outbox_dedup", "outbox_due", "outbox_finished_expires", "vm_resources_env_state", "vm_resources_gone_expires",
	}
	if diff := cmp.Diff(want, indexes(t, path)); diff != "" {
		t.Errorf("indexes after upgrade (-want +got):\n%s", diff)
	}
	checkMigrationsTable(t, path)
}

// checkMigrationsTable checks every migration is recorded once, in order, with its name.
func checkMigrationsTable(t *testing.T, path string) {
	t.Helper()
	rows, err := rawDB(t, path).QueryContext(t.Context(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var (
			v       int
			name    string
			applied int64
		)
		if err := rows.Scan(&v, &name, &applied); err != nil {
			t.Fatalf("scan schema_migrations: %v", err)
		}
		if applied <= 0 {
			t.Errorf("migration %d: applied_at %d, want a timestamp", v, applied)
		}
		got = append(got, name)
	}
	if diff := cmp.Diff([]string{"initial", "list_indexes", "vm_resources", "outbox", "check_requests", "leases", "agent_pool_changes"}, got); diff != "" {
		t.Errorf("schema_migrations names by version (-want +got):\n%s", diff)
	}
}

func TestReopenAppliesNothing(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t, sqlite.Options{})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 2 {
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	checkMigrationsTable(t, path)
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t, sqlite.Options{})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := rawDB(t, path).ExecContext(t.Context(),
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from_the_future', 1)`); err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	_, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open of a newer schema: got %v, want an error saying the schema is newer", err)
	}
}
