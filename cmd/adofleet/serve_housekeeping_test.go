package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

var prunedDecisionsLine = regexp.MustCompile(`(?m)^adofleet_housekeeping_deleted_rows_total\{kind="decisions"\} ([0-9.e+]+)$`)

// TestServePrunesTheStore: serve runs store.housekeeping on its SQLite file. Decisions beyond
// decisionsPerPool, oldest first, are deleted while serve runs.
func TestServePrunesTheStore(t *testing.T) {
	const pat = "serve-prune-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_PAT", pat)
	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Five old decisions of the pool, written before serve starts.
	path := filepath.Join(h.dir, "state.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open the state file: %v", err)
	}
	old := time.Now().Add(-48 * time.Hour)
	for i := range 5 {
		d := store.Decision{Time: old.Add(time.Duration(i) * time.Minute), Pool: "build", Action: "launch", Reason: fmt.Sprintf("seeded %d", i)}
		if err := st.AppendDecision(ctx, d); err != nil {
			t.Fatalf("AppendDecision: %v", err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
controller:
  id: prune-test
  resync: 300ms
store:
  sqlite:
    path: {state}
  housekeeping:
    interval: 200ms
    decisionsPerPool: 2
web:
  listen: 127.0.0.1:0
{localAgents}
pools:
  - name: build
    provider: local
    max: 1
`)
	run := startServe(t, ctx, cfgPath)
	base := run.dashboardURL(t, ctx)
	run.waitFor(t, ctx, "a housekeeping pass that deleted the older decisions", func() bool {
		m := prunedDecisionsLine.FindStringSubmatch(get(t, base+"/metrics"))
		if m == nil {
			return false
		}
		n, err := strconv.ParseFloat(m[1], 64)
		return err == nil && n >= 3
	})
	run.shutdown(t)

	st, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen the state file: %v", err)
	}
	defer st.Close()
	ds, err := st.ListDecisions(ctx, "build", 100)
	if err != nil {
		t.Fatalf("ListDecisions: %v", err)
	}
	for _, d := range ds {
		if d.Reason == "seeded 0" || d.Reason == "seeded 1" || d.Reason == "seeded 2" {
			t.Errorf("decision %q is still there after housekeeping kept the newest 2", d.Reason)
		}
	}
}
