package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/controller/fleetops"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// Records the status tests add to the gc fixture: one whose agent and instance are both gone,
// and one already gone (history, not listed).
const (
	statusLost = "build-lost0001"
	statusDone = "build-done0001"
)

// newStatusFixture is the gc fixture plus the two records above and seven decisions of pool
// "build", "decision 0" the oldest.
func newStatusFixture(t *testing.T, ctx context.Context) *gcFixture {
	t.Helper()
	f := newGCFixture(t, ctx, false)
	st := f.openStore(t, ctx)
	defer st.Close()
	now := time.Now().UTC()
	recs := []store.AgentRecord{
		{Name: statusLost, Pool: "build", State: store.StateRegistered, InstanceID: "local-gone-1", AgentID: 9999, CreatedAt: now, UpdatedAt: now, RegisteredAt: now},
		{Name: statusDone, Pool: "build", State: store.StateGone, CreatedAt: now, UpdatedAt: now},
	}
	for _, r := range recs {
		if err := st.CreateAgent(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 7 {
		d := store.Decision{Time: now.Add(time.Duration(i-10) * time.Minute), Pool: "build", Action: "launch", Target: "1", Reason: fmt.Sprintf("decision %d", i)}
		if err := st.AppendDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// statusRowKey is a row reduced to what the fixture decides (no ids or times).
type statusRowKey struct {
	Kind, Name, Status, InstanceState, RecordState string
	Busy                                           bool
	Flags                                          []string
}

func statusKeys(rows []fleetops.Row) []statusRowKey {
	var out []statusRowKey
	for _, r := range rows {
		out = append(out, statusRowKey{Kind: r.Kind, Name: r.Name, Status: r.Status, InstanceState: r.InstanceState,
			RecordState: r.RecordState, Busy: r.JobRequestID != 0, Flags: r.Flags})
	}
	return out
}

// wantStatusRows are the fixture's rows of pool "build"; orphanFlags are the orphan instance's.
func wantStatusRows(all bool, orphanFlags ...string) []statusRowKey {
	rows := []statusRowKey{
		{Kind: fleetops.RowPlaceholder, Name: gcPlaceholder, Status: "offline", Flags: []string{}},
		{Kind: fleetops.RowAgent, Name: gcBusy, Status: "online", InstanceState: "running", RecordState: "registered", Busy: true, Flags: []string{}},
		{Kind: fleetops.RowAgent, Name: gcIdle, Status: "online", InstanceState: "running", RecordState: "registered", Flags: []string{}},
		{Kind: fleetops.RowRecord, Name: statusLost, InstanceState: fleetops.InstanceGone, RecordState: "registered", Flags: []string{fleetops.FlagLost}},
		{Kind: fleetops.RowAgent, Name: gcOff1, Status: "offline", RecordState: "registered", Flags: []string{fleetops.FlagNoInstance, fleetops.FlagOffline}},
		{Kind: fleetops.RowAgent, Name: gcOff2, Status: "offline", RecordState: "registered", Flags: []string{fleetops.FlagNoInstance, fleetops.FlagOffline}},
		{Kind: fleetops.RowInstance, Name: gcOrphan, InstanceState: "running", RecordState: "launched", Flags: append([]string{}, orphanFlags...)},
	}
	if all {
		rows = append(rows, statusRowKey{Kind: fleetops.RowForeign, Name: gcForeign, Status: "offline", Flags: []string{fleetops.FlagOffline}})
	}
	return rows
}

// statusJSON runs status with -o json and args, and decodes what it printed.
func statusJSON(t *testing.T, ctx context.Context, args ...string) (statusDoc, string, error) {
	t.Helper()
	out, stderr, err := runCLI(ctx, append([]string{"status", "-o", "json"}, args...)...)
	var doc statusDoc
	if jerr := json.Unmarshal([]byte(out), &doc); jerr != nil {
		t.Fatalf("status -o json printed no JSON document: %v\nstdout:\n%s\nstderr:\n%s", jerr, out, stderr)
	}
	return doc, out + stderr, err
}

// statusWorld is everything status must not change: the pool's agents as ADO has them, the live
// instances, every record (with its version) and the number of decisions.
type statusWorld struct {
	Agents    []string
	Instances []string
	Records   []store.AgentRecord
	Decisions int
}

func (f *gcFixture) world(t *testing.T, ctx context.Context) statusWorld {
	t.Helper()
	var w statusWorld
	for _, a := range f.h.org.Agents("build") {
		w.Agents = append(w.Agents, fmt.Sprintf("%s id=%d enabled=%t online=%t job=%d", a.Name, a.ID, a.Enabled, a.Online, a.AssignedRequest))
	}
	slices.Sort(w.Agents)
	for _, name := range []string{gcIdle, gcBusy, gcOrphan} {
		w.Instances = append(w.Instances, fmt.Sprintf("%s alive=%t", name, f.alive(t, ctx, name)))
	}
	st := f.openStore(t, ctx)
	defer st.Close()
	var err error
	if w.Records, err = st.ListAgents(ctx, ""); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(w.Records, func(a, b store.AgentRecord) int { return strings.Compare(a.Name, b.Name) })
	ds, err := st.ListDecisions(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Decisions = len(ds)
	return w
}

func TestStatusShowsEachAgentAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newStatusFixture(t, ctx)
	before := f.world(t, ctx)

	// JSON: every row with its status and flags; the orphan is young (10m registrationTimeout).
	doc, printed, err := statusJSON(t, ctx, "-c", f.cfgPath)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, printed)
	}
	if got := len(doc.Pools); got != 2 {
		t.Fatalf("pools = %d, want 2 (build, other)", got)
	}
	build, other := doc.Pools[0], doc.Pools[1]
	if diff := cmp.Diff(wantStatusRows(false), statusKeys(build.Rows)); diff != "" {
		t.Errorf("rows of build (-want +got):\n%s", diff)
	}
	wantCounts := fleetops.Counts{RunningJobs: 1, Busy: 1, Idle: 1, Starting: 1, Offline: 2, Foreign: 1, Instances: 3}
	if diff := cmp.Diff(wantCounts, build.Counts); diff != "" {
		t.Errorf("counts of build (-want +got):\n%s", diff)
	}
	if got, want := []any{build.Name, build.Max, build.InADO, doc.Version, doc.Controller}, []any{"build", 4, true, statusVersion, gcController}; !cmp.Equal(got, want) {
		t.Errorf("name, max, inAzureDevOps, version, controller = %v, want %v", got, want)
	}
	var reasons []string
	for _, d := range build.Decisions {
		reasons = append(reasons, d.Reason)
	}
	if want := []string{"decision 6", "decision 5", "decision 4", "decision 3", "decision 2"}; !cmp.Equal(reasons, want) {
		t.Errorf("decisions = %v, want the 5 newest %v", reasons, want)
	}
	if other.InADO || other.Error != "" || len(other.Rows) != 0 {
		t.Errorf("pool other (not in ADO) = %+v, want inAzureDevOps false, no error, no rows", other)
	}
	for _, r := range build.Rows {
		if r.Name == gcBusy && (r.BusySince == nil || r.InstanceID != f.inst[gcBusy]) {
			t.Errorf("busy row = %+v, want busySince and instance %s", r, f.inst[gcBusy])
		}
	}

	// The table shows the same rows, kinds and flags.
	table, stderr, err := runCLI(ctx, "status", "-c", f.cfgPath, "--all")
	if err != nil {
		t.Fatalf("status (table): %v\n%s", err, stderr)
	}
	printed += table + stderr
	for _, r := range wantStatusRows(true) {
		flags := "-"
		if len(r.Flags) > 0 {
			flags = strings.Join(r.Flags, ",")
		}
		line := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(r.Name) + ` +` + r.Kind + ` .* ` + regexp.QuoteMeta(flags) + `$`)
		if !line.MatchString(table) {
			t.Errorf("no table row for %s (%s, flags %s):\n%s", r.Name, r.Kind, flags, table)
		}
	}
	if !strings.Contains(table, "build (local): max 4, 3 instances; jobs: 0 queued, 1 running; agents: 1 busy, 1 idle, 0 draining, 1 starting, 2 offline; 1 not adofleet's") {
		t.Errorf("no summary line for build:\n%s", table)
	}

	// --all lists the foreign agent; --pool filters; --decisions 0 shows none.
	doc, out, err := statusJSON(t, ctx, "-c", f.cfgPath, "--all", "--pool", "build", "--decisions", "0")
	printed += out
	if err != nil {
		t.Fatalf("status --all --pool build: %v", err)
	}
	if len(doc.Pools) != 1 || doc.Pools[0].Name != "build" {
		t.Fatalf("--pool build printed pools %+v, want build alone", doc.Pools)
	}
	if diff := cmp.Diff(wantStatusRows(true), statusKeys(doc.Pools[0].Rows)); diff != "" {
		t.Errorf("rows with --all (-want +got):\n%s", diff)
	}
	if n := len(doc.Pools[0].Decisions); n != 0 {
		t.Errorf("--decisions 0 printed %d decisions", n)
	}

	// An hour on, the orphan instance is past registrationTimeout: flagged, no longer starting.
	cfg, err := loadConfig(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	later := func() time.Time { return time.Now().Add(time.Hour) }
	o := statusOptions{pools: []string{"build"}, output: "json", decisions: 1}
	if err := runStatus(ctx, cfg, o, &buf, slog.New(slog.DiscardHandler), later); err != nil {
		t.Fatalf("status an hour later: %v", err)
	}
	printed += buf.String()
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantStatusRows(false, fleetops.FlagUnregistered), statusKeys(doc.Pools[0].Rows)); diff != "" {
		t.Errorf("rows an hour later (-want +got):\n%s", diff)
	}
	if got := doc.Pools[0].Counts.Starting; got != 0 {
		t.Errorf("starting an hour later = %d, want 0", got)
	}

	if diff := cmp.Diff(before, f.world(t, ctx)); diff != "" {
		t.Errorf("status changed the world (-before +after):\n%s", diff)
	}
	f.statusMu.Lock()
	calls := slices.Clone(f.statusCalls)
	f.statusMu.Unlock()
	if len(calls) == 0 {
		t.Error("the simulator saw no request from status")
	}
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET ") {
			t.Errorf("status sent %s, want reads only", c)
		}
	}
	if strings.Contains(printed, gcPAT) {
		t.Error("status printed the PAT")
	}
}

// TestStatusReportsAnUnreadablePool: ADO refuses pool other's agent list; status still prints
// build and exits 1, naming other's error.
func TestStatusReportsAnUnreadablePool(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newStatusFixture(t, ctx)
	id, err := f.h.org.AddPool("other")
	if err != nil {
		t.Fatal(err)
	}
	f.failPool.Store(int64(id))
	for _, format := range []string{"json", "table"} {
		out, stderr, err := runCLI(ctx, "status", "-c", f.cfgPath, "-o", format)
		var ec exitCodeError
		if !asExit(err, &ec) || ec.code != 1 {
			t.Fatalf("-o %s: err = %v, want exit code 1\nstdout:\n%s\nstderr:\n%s", format, err, out, stderr)
		}
		if format == "table" {
			if !regexp.MustCompile(`(?m)^other \(local\).*\n  error: list agents of pool "other": .*403`).MatchString(out) {
				t.Errorf("no error line for other:\n%s", out)
			}
			if !strings.Contains(out, "  "+gcIdle+" ") {
				t.Errorf("build's rows are missing:\n%s", out)
			}
			continue
		}
		var doc statusDoc
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("no JSON document: %v\n%s", err, out)
		}
		if len(doc.Pools) != 2 {
			t.Fatalf("pools = %d, want 2", len(doc.Pools))
		}
		if diff := cmp.Diff(wantStatusRows(false), statusKeys(doc.Pools[0].Rows)); diff != "" {
			t.Errorf("rows of build beside a failing pool (-want +got):\n%s", diff)
		}
		if e := doc.Pools[1].Error; !strings.Contains(e, "403") || strings.Contains(e, gcPAT) {
			t.Errorf("other's error = %q, want the 403 and no PAT", e)
		}
	}
}

// TestStatusNoStoreFile: a SQLite store that does not exist yet has no records, and status does
// not create it.
func TestStatusNoStoreFile(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newGCFixture(t, ctx, false)
	db := filepath.Join(f.h.dir, "nosuch.db")
	path := f.configWithStore(t, db)
	doc, printed, err := statusJSON(t, ctx, "-c", path, "--pool", "build")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, printed)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("status created the store file %s", db)
	}
	// No records: the offline agents are not known to be adofleet's; the tagged instances are.
	if got, want := doc.Pools[0].Counts, (fleetops.Counts{RunningJobs: 1, Busy: 1, Idle: 1, Starting: 1, Foreign: 3, Instances: 3}); !cmp.Equal(got, want) {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
}

// TestStatusLeavesAnOlderSchemaAlone: status never migrates. A SQLite file at an older schema
// (a serve of an earlier version owns it) is refused with what to do, and stays at its version.
func TestStatusLeavesAnOlderSchemaAlone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newGCFixture(t, ctx, false)
	db := filepath.Join(f.h.dir, "old.db")
	st, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// The file of an older adofleet: its migrations after the first not applied yet.
	version := func() int {
		raw, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version > 1`); err != nil {
			t.Fatal(err)
		}
		var v int
		if err := raw.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(); v != 1 {
		t.Fatalf("setup: schema version %d, want 1", v)
	}
	path := f.configWithStore(t, db)
	out, stderr, err := runCLI(ctx, "status", "-c", path, "--pool", "build")
	if err == nil || !strings.Contains(stderr+err.Error(), "older than this binary's") {
		t.Fatalf("status on a version-1 store: err = %v, stdout %q, stderr %q; want it refused as an older schema", err, out, stderr)
	}
	if v := version(); v != 1 {
		t.Errorf("schema after status = %d, want 1 (status must not migrate)", v)
	}
}

// configWithStore writes a copy of the fixture's config whose SQLite store is db, and returns
// its path.
func (f *gcFixture) configWithStore(t *testing.T, db string) string {
	t.Helper()
	cfg, err := os.ReadFile(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.h.dir, strings.TrimSuffix(filepath.Base(db), ".db")+".yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(cfg), filepath.Join(f.h.dir, "state.db"), db, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPoolCommandUsageErrors: gc and status exit 2, naming what is wrong, for a bad config, an
// unknown pool and bad flags.
func TestPoolCommandUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	cfg := "organization:\n  url: https://dev.azure.com/x\n  pat: env:ADOFLEET_TEST_UNSET_POOLCMD_PAT\nproviders:\n  local:\n    command: [/bin/true]\npools:\n  - name: build\n    provider: local\n    max: 1\n"
	if err := os.WriteFile(good, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("pools: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"gc: unknown pool", []string{"gc", "-c", good, "--pool", "build", "--pool", "nosuch"}, `"nosuch"`},
		{"gc: invalid config", []string{"gc", "-c", bad}, "bad.yaml"},
		{"gc: unknown flag", []string{"gc", "-c", good, "--purge"}, "--purge"},
		{"gc: the old --dry-run", []string{"gc", "-c", good, "--dry-run"}, "dry run by default"},
		{"status: unknown pool", []string{"status", "-c", good, "--pool", "nosuch"}, `"nosuch"`},
		{"status: invalid config", []string{"status", "-c", bad}, "bad.yaml"},
		{"status: unknown output", []string{"status", "-c", good, "-o", "yaml"}, `"yaml"`},
		{"status: negative decisions", []string{"status", "-c", good, "--decisions", "-1"}, "--decisions"},
		{"status: unknown flag", []string{"status", "-c", good, "--apply"}, "--apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runCLI(context.Background(), tt.args...)
			var ec exitCodeError
			if !asExit(err, &ec) || ec.code != 2 {
				t.Fatalf("err = %v, want exit code 2", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %v, want it to name %s", err, tt.mention)
			}
		})
	}
}
