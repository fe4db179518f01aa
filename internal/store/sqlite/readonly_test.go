package sqlite_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// TestReadOnlyReadsAndChangesNothing opens a database serve wrote, read-only: the records are
// there, a write fails, and the schema is what it was.
func TestReadOnlyReadsAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	rw, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	rec := store.AgentRecord{Name: "agent-1", Pool: "linux", State: store.StateRegistered, AgentID: 7}
	if err := rw.CreateAgent(ctx, rec); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	if err := rw.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	ro, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open read-only: %v", err)
	}
	got, err := ro.ListAgents(ctx, "linux")
	if err != nil || len(got) != 1 || got[0].Name != "agent-1" || got[0].AgentID != 7 {
		t.Fatalf("ListAgents read-only = %+v, %v; want agent-1", got, err)
	}
	if err := ro.CreateAgent(ctx, store.AgentRecord{Name: "agent-2", Pool: "linux", State: store.StateLaunching}); err == nil {
		t.Errorf("CreateAgent on a read-only store succeeded")
	}
	if err := ro.Close(); err != nil {
		t.Fatalf("Close read-only: %v", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("the database file changed under a read-only store")
	}
}

// TestReadOnlyRefusesOtherSchemasAndMissingFiles: an older schema is not migrated and a missing
// file is not created; each is refused with what to do.
func TestReadOnlyRefusesOtherSchemasAndMissingFiles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()

	old := filepath.Join(dir, "old.db")
	st, err := sqlite.OpenAtVersion(ctx, old, sqlite.Options{}, 1)
	if err != nil {
		t.Fatalf("OpenAtVersion(1): %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(ctx, old, sqlite.Options{ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), "version 1, older than this binary's") {
		t.Errorf("read-only open of a version-1 database: err = %v, want it refused as older", err)
	}
	st, err = sqlite.OpenAtVersion(ctx, old, sqlite.Options{}, 1) // migrates nothing: still 1
	if err != nil {
		t.Fatal(err)
	}
	if v, err := st.SchemaVersion(ctx); err != nil || v != 1 {
		t.Errorf("schema after the refused read-only open = %d, %v; want 1 (not migrated)", v, err)
	}
	_ = st.Close()

	missing := filepath.Join(dir, "sub", "none.db")
	if _, err := sqlite.Open(ctx, missing, sqlite.Options{ReadOnly: true}); err == nil {
		t.Errorf("read-only open of a missing file succeeded")
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("read-only open created %s", filepath.Dir(missing))
	}
}
