package main

import (
	"context"
	"encoding/json"
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

	path := filepath.Join(h.dir, "state.db")
	seedDecisions(t, ctx, path, "build")

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
	checkOldestDecisionsPruned(t, ctx, path, "build")
}

// TestLambdaPrunesTheStore: the Lambda reconcile function runs the same housekeeping on its
// first invocation (and once per interval after).
func TestLambdaPrunesTheStore(t *testing.T) {
	const pat = "lambda-prune-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_PAT", pat)
	h := newSimHarness(t, "deploy", adosim.ServerOptions{PAT: pat})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := filepath.Join(h.dir, "state.db")
	seedDecisions(t, ctx, path, "deploy")
	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
store:
  sqlite:
    path: {state}
  housekeeping:
    decisionsPerPool: 2
web:
  listen: "off"
{localAgents}
pools:
  - name: deploy
    provider: local
    max: 1
`)
	lh, err := newLambdaHandler("", lambdaConfigFromEnv(envMap{envLambdaConfig: cfgPath}.get), &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lh.Invoke(ctx, json.RawMessage(scheduledEvent)); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	checkOldestDecisionsPruned(t, ctx, path, "deploy")
}

// seedDecisions writes five old decisions of pool into the SQLite file at path.
func seedDecisions(t *testing.T, ctx context.Context, path, pool string) {
	t.Helper()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open the state file: %v", err)
	}
	defer st.Close()
	old := time.Now().Add(-48 * time.Hour)
	for i := range 5 {
		d := store.Decision{Time: old.Add(time.Duration(i) * time.Minute), Pool: pool, Action: "launch", Reason: fmt.Sprintf("seeded %d", i)}
		if err := st.AppendDecision(ctx, d); err != nil {
			t.Fatalf("AppendDecision: %v", err)
		}
	}
}

// checkOldestDecisionsPruned fails unless the three oldest seeded decisions are gone and the
// two newest kept (decisionsPerPool 2, and nothing newer was decided).
func checkOldestDecisionsPruned(t *testing.T, ctx context.Context, path, pool string) {
	t.Helper()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen the state file: %v", err)
	}
	defer st.Close()
	ds, err := st.ListDecisions(ctx, pool, 100)
	if err != nil {
		t.Fatalf("ListDecisions: %v", err)
	}
	for _, d := range ds {
		if d.Reason == "seeded 0" || d.Reason == "seeded 1" || d.Reason == "seeded 2" {
			t.Errorf("decision %q is still there after housekeeping kept the newest 2", d.Reason)
		}
	}
	if len(ds) == 0 {
		t.Error("no decision left; housekeeping keeps the newest 2")
	}
}
