package fleetops

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rowKey is a row reduced to what Status decides from the world (no times).
type rowKey struct {
	Kind, Name, Status, InstanceID, InstanceState, RecordState string
	Job                                                        int64
	Flags                                                      []string
}

func rowKeys(rows []Row) []rowKey {
	var out []rowKey
	for _, r := range rows {
		out = append(out, rowKey{Kind: r.Kind, Name: r.Name, Status: r.Status, InstanceID: r.InstanceID,
			InstanceState: r.InstanceState, RecordState: r.RecordState, Job: r.JobRequestID, Flags: r.Flags})
	}
	return out
}

func TestStatus(t *testing.T) {
	t.Parallel()
	const timeout = 10 * time.Minute
	// Rows an observation sees whenever it is made; starting are the two that wait for an agent.
	rows := func(starting bool) []rowKey {
		orph, newRec := []string{}, []string{}
		if !starting {
			orph, newRec = []string{FlagUnregistered}, []string{FlagLost}
		}
		return []rowKey{
			{Kind: RowPlaceholder, Name: worldPlaceholder, Status: "offline", Flags: []string{}},
			{Kind: RowAgent, Name: "build-busy", Status: "online", InstanceID: "i-busy", InstanceState: "running", RecordState: "registered", Job: 41, Flags: []string{}},
			{Kind: RowAgent, Name: "build-drain", Status: "online", InstanceID: "i-drain", InstanceState: "pending", Flags: []string{}},
			{Kind: RowAgent, Name: "build-idle", Status: "online", InstanceID: "i-idle", InstanceState: "running", RecordState: "registered", Flags: []string{}},
			{Kind: RowRecord, Name: "build-lost", InstanceID: "i-ended", InstanceState: "terminated", RecordState: "registered", Flags: []string{FlagLost}},
			{Kind: RowRecord, Name: "build-new", RecordState: "launching", Flags: newRec},
			{Kind: RowAgent, Name: "build-off", Status: "offline", InstanceID: "i-offgone", InstanceState: InstanceGone, RecordState: "registered", Flags: []string{FlagNoInstance, FlagOffline}},
			{Kind: RowAgent, Name: "build-offinst", Status: "offline", InstanceID: "i-offinst", InstanceState: "running", RecordState: "registered", Flags: []string{FlagOffline}},
			{Kind: RowInstance, Name: "build-orph", InstanceID: "i-orphan", InstanceState: "running", RecordState: "launched", Flags: orph},
			{Kind: RowAgent, Name: "build-res", Status: "online", InstanceID: "i-res", InstanceState: "running", RecordState: "draining", Job: 42, Flags: []string{}},
			{Kind: RowForeign, Name: "someone", Status: "offline", Flags: []string{FlagOffline}},
			{Kind: RowForeign, Name: "theirs", Status: "online", Flags: []string{}},
		}
	}
	counts := Counts{QueuedJobs: 1, RunningJobs: 2, Busy: 2, Idle: 1, Draining: 1, Starting: 2, Offline: 2, Foreign: 2, Instances: 6}
	later := counts
	later.Starting = 0
	tests := []struct {
		name       string
		after      time.Duration // since the observation
		wantRows   []rowKey
		wantCounts Counts
	}{
		{name: "now", wantRows: rows(true), wantCounts: counts},
		{name: "within the registration timeout", after: 4 * time.Minute, wantRows: rows(true), wantCounts: counts},
		{name: "past the registration timeout", after: time.Hour, wantRows: rows(false), wantCounts: later},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
			got := Status(NewPoolView(world(now)), now.Add(tt.after), timeout)
			if !got.InADO {
				t.Error("InADO = false, want true")
			}
			if diff := cmp.Diff(tt.wantCounts, got.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRows, rowKeys(got.Rows)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStatusTimes: a busy agent's row says since when (assignTime, else receiveTime), in UTC,
// and an instance's row when it was launched.
func TestStatusTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	got := map[string]Row{}
	for _, r := range Status(NewPoolView(world(now)), now, time.Minute).Rows {
		got[r.Name] = r
	}
	utc := func(d time.Duration) *time.Time { t := now.Add(d).UTC(); return &t }
	tests := []struct {
		name      string
		field     string
		got, want *time.Time
	}{
		{"build-busy", "busySince", got["build-busy"].BusySince, utc(-2 * time.Minute)},
		{"build-res", "busySince", got["build-res"].BusySince, utc(-time.Minute)},
		{"build-idle", "busySince", got["build-idle"].BusySince, nil},
		{"build-orph", "launchedAt", got["build-orph"].LaunchedAt, utc(-5 * time.Minute)},
		{"build-new", "recordCreatedAt", got["build-new"].RecordCreatedAt, utc(-time.Minute)},
	}
	for _, tt := range tests {
		if !cmp.Equal(tt.got, tt.want) {
			t.Errorf("%s's %s = %v, want %v", tt.name, tt.field, tt.got, tt.want)
		}
		if tt.got != nil && tt.got.Location() != time.UTC {
			t.Errorf("%s's %s is in %v, want UTC", tt.name, tt.field, tt.got.Location())
		}
	}
}

// TestStatusEmptyPool: a pool with nothing in it has empty (not nil) rows, for the JSON document.
func TestStatusEmptyPool(t *testing.T) {
	t.Parallel()
	got := Status(NewPoolView(Observation{Pool: worldPool}), time.Now(), time.Minute)
	if got.Rows == nil || len(got.Rows) != 0 || got.InADO {
		t.Errorf("Status of an empty, unknown pool = %+v, want no rows (not nil) and InADO false", got)
	}
}
