package postgres_test

import (
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
)

// TestReadOnlyReadsAndChangesNothing opens a schema serve wrote, read-only: the records are
// there, a write fails, and a schema at an older version, or none, is refused, not migrated or
// created.
func TestReadOnlyReadsAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := serverURL(t)
	schema := schemaFor(t, "ro")
	rw := openSchema(t, schema, postgres.Options{})
	if err := rw.CreateAgent(ctx, store.AgentRecord{Name: "agent-1", Pool: "linux", State: store.StateRegistered, AgentID: 7}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}

	ro := openSchema(t, schema, postgres.Options{ReadOnly: true})
	got, err := ro.ListAgents(ctx, "linux")
	if err != nil || len(got) != 1 || got[0].Name != "agent-1" {
		t.Fatalf("ListAgents read-only = %+v, %v; want agent-1", got, err)
	}
	if err := ro.CreateAgent(ctx, store.AgentRecord{Name: "agent-2", Pool: "linux", State: store.StateLaunching}); err == nil {
		t.Errorf("CreateAgent on a read-only store succeeded")
	}

	old := schemaFor(t, "ro_old")
	st, err := postgres.OpenAt(ctx, url, postgres.Options{Schema: old}, 1)
	if err != nil {
		t.Fatalf("OpenAt(1): %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := postgres.Open(ctx, url, postgres.Options{Schema: old, ReadOnly: true}); err == nil ||
		!strings.Contains(err.Error(), "version 1, older than this binary's") {
		t.Errorf("read-only open of a version-1 schema: err = %v, want it refused as older", err)
	}
	if v, err := st.SchemaVersion(ctx); err != nil || v != 1 {
		t.Errorf("schema after the refused read-only open = %d, %v; want 1 (not migrated)", v, err)
	}

	none := schemaFor(t, "ro_none")
	if _, err := postgres.Open(ctx, url, postgres.Options{Schema: none, ReadOnly: true}); err == nil ||
		!strings.Contains(err.Error(), "version 0") {
		t.Errorf("read-only open of a missing schema: err = %v, want it refused at version 0", err)
	}
}
