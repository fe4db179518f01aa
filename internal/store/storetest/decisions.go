package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/store"
)

func testDecisions(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	ds := map[string]store.Decision{
		"l1": {Time: at(1), Pool: "linux", Action: "launch", Target: "2", Reason: "2 queued jobs"},
		"w2": {Time: at(2), Pool: "windows", Action: "launch", Target: "1", Reason: "1 queued job"},
		"l3": {Time: at(3), Pool: "linux", Action: "drain", Target: "agent-7", Reason: "idle 5m0s"},
		"l4": {Time: at(4), Pool: "linux", Action: "delete-agent", Target: "agent-7", Reason: "drained"},
		"w5": {Time: at(5), Pool: "windows", Action: "terminate", Target: "i-0abc", Reason: "orphan"},
	}
	// Appended out of time order: newest-first means by Time, not by arrival.
	for _, k := range []string{"l3", "l1", "w5", "w2", "l4"} {
		if err := s.AppendDecision(t.Context(), ds[k]); err != nil {
			t.Fatalf("AppendDecision(%s): %v", k, err)
		}
	}
	tests := []struct {
		name  string
		pool  string
		limit int
		want  []string
	}{
		{"all pools", "", 10, []string{"w5", "l4", "l3", "w2", "l1"}},
		{"all pools, limited", "", 2, []string{"w5", "l4"}},
		{"one pool", "linux", 10, []string{"l4", "l3", "l1"}},
		{"one pool, limited", "linux", 1, []string{"l4"}},
		{"other pool", "windows", 5, []string{"w5", "w2"}},
		{"no limit", "", 0, []string{"w5", "l4", "l3", "w2", "l1"}},
		{"unknown pool", "mac", 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListDecisions(t.Context(), tc.pool, tc.limit)
			if err != nil {
				t.Fatalf("ListDecisions(%q, %d): %v", tc.pool, tc.limit, err)
			}
			var want []store.Decision
			for _, k := range tc.want {
				want = append(want, ds[k])
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListDecisions(%q, %d) (-want +got):\n%s", tc.pool, tc.limit, diff)
			}
			for _, d := range got {
				if d.Time.Location() != time.UTC {
					t.Errorf("decision %v: got location %v, want UTC", d, d.Time.Location())
				}
			}
		})
	}
}

// testTimesRoundTrip checks that instants come back in UTC, whole milliseconds exactly, finer
// values within a millisecond (truncated or rounded), and zero as zero.
func testTimesRoundTrip(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	now := time.Now()
	tests := []struct {
		name string
		in   time.Time
		want time.Time
		slop time.Duration // how far from want the stored value may be (sub-millisecond precision lost)
	}{
		{"utc millis", base, base, 0},
		{"other zone", base.In(time.FixedZone("UTC-7", -7*60*60)), base, 0},
		{"local zone", base.Local(), base, 0},
		{"sub-millisecond", base.Add(999_999 * time.Nanosecond), base.Add(999_999 * time.Nanosecond), time.Millisecond - 1},
		{"pre-epoch", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), 0},
		{"far future", time.Date(2199, 12, 31, 23, 59, 59, 998_000_000, time.UTC), time.Date(2199, 12, 31, 23, 59, 59, 998_000_000, time.UTC), 0},
		{"wall clock with monotonic reading", now, now, time.Millisecond - 1},
		{"zero", time.Time{}, time.Time{}, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := record(string(rune('a'+i))+"-agent", "linux", store.StateRegistered)
			r.CreatedAt, r.UpdatedAt, r.RegisteredAt = tc.in, tc.in, tc.in
			create(t, s, r)
			got := get(t, s, r.Name)
			for field, v := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt, "RegisteredAt": got.RegisteredAt} {
				checkTime(t, "agent "+field, v, tc.want, tc.slop)
			}

			d := store.Decision{Time: tc.in, Pool: "times-" + r.Name, Action: "launch", Target: "1"}
			if err := s.AppendDecision(t.Context(), d); err != nil {
				t.Fatalf("AppendDecision: %v", err)
			}
			ds, err := s.ListDecisions(t.Context(), d.Pool, 1)
			if err != nil || len(ds) != 1 {
				t.Fatalf("ListDecisions: got %d decisions, err %v; want 1", len(ds), err)
			}
			checkTime(t, "decision Time", ds[0].Time, tc.want, tc.slop)
		})
	}
}

func checkTime(t *testing.T, what string, got, want time.Time, slop time.Duration) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s: got %v, want the zero time", what, got)
		}
		return
	}
	if got.Location() != time.UTC {
		t.Errorf("%s: got location %v, want UTC", what, got.Location())
	}
	if d := got.Sub(want).Abs(); d > slop {
		t.Errorf("%s: got %v, want %v (at most %v off)", what, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano), slop)
	}
}
