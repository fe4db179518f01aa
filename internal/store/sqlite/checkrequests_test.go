package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// oldCheckRequests is the table internal/checks created in the store's file before check
// requests were part of the store (CREATE TABLE IF NOT EXISTS, on its own connection).
const oldCheckRequests = `CREATE TABLE IF NOT EXISTS check_requests (
	plan_id TEXT NOT NULL, job_id TEXT NOT NULL, task_instance_id TEXT NOT NULL, pool TEXT NOT NULL,
	plan_url TEXT NOT NULL, project_id TEXT NOT NULL, hub_name TEXT NOT NULL, timeline_id TEXT NOT NULL,
	auth_token TEXT NOT NULL, received_at INTEGER NOT NULL, state TEXT NOT NULL,
	result TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL DEFAULT '',
	sent INTEGER NOT NULL DEFAULT 0, done_at INTEGER,
	PRIMARY KEY (plan_id, job_id, task_instance_id)
) STRICT;
CREATE INDEX IF NOT EXISTS check_requests_pending ON check_requests (state, pool, received_at);`

// TestUpgradeAdoptsTheOldCheckRequestsTable: a file where the old checks package kept a pending
// request upgrades without losing it: a restarted controller still calls that check back.
func TestUpgradeAdoptsTheOldCheckRequestsTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := t.Context()
	old, err := sqlite.OpenAtVersion(ctx, path, sqlite.Options{}, 4)
	if err != nil {
		t.Fatalf("OpenAtVersion(4): %v", err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, oldCheckRequests); err != nil {
		t.Fatalf("create the old table: %v", err)
	}
	at := base.Add(-time.Minute)
	if _, err := db.ExecContext(ctx, `INSERT INTO check_requests (plan_id, job_id, task_instance_id, pool, plan_url,
		project_id, hub_name, timeline_id, auth_token, received_at, state)
		VALUES ('plan', 'job', 'task', 'linux', 'https://dev.azure.com/x/', 'proj', 'checks', 'tl', 'tok', ?, 'pending')`,
		at.UnixMicro()); err != nil {
		t.Fatalf("insert an old pending request: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open (upgrade): %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	got, err := s.PendingCheckRequests(ctx, "linux")
	if err != nil {
		t.Fatalf("PendingCheckRequests: %v", err)
	}
	want := []store.CheckRequest{{
		Key:  store.CallbackKey{PlanID: "plan", JobID: "job", TaskInstanceID: "task"},
		Pool: "linux", PlanURL: "https://dev.azure.com/x/", ProjectID: "proj", HubName: "checks",
		TimelineID: "tl", AuthToken: "tok", ReceivedAt: at,
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pending after the upgrade (-want +got):\n%s", diff)
	}
}
