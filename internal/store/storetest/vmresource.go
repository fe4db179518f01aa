package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/store"
)

// vmRecord is a fully populated VM record; tests change what they need.
func vmRecord(id, project, env string, state store.VMState) store.VMRecord {
	return store.VMRecord{
		InstanceID:       id,
		AutoScalingGroup: "asg-" + env,
		Project:          project,
		Environment:      env,
		EnvironmentID:    3_000_000_007, // above 2^31: Go's int is 64 bits, so the column must be too
		ResourceName:     id,
		ResourceID:       230,
		PoolID:           12,
		AgentID:          4711,
		// Not sorted, with a comma and a space: catches backends that keep a set or join on ",".
		Tags:           []string{"web", "zone,b", "Zone A", "ünïcode"},
		State:          state,
		Reason:         "launch seen",
		LifecycleHook:  "drain-hook",
		LifecycleToken: "3a4b5c6d-0000-4000-8000-" + id,
		CreatedAt:      base,
		UpdatedAt:      base.Add(1500 * time.Millisecond),
		ExpiresAt:      base.Add(72*time.Hour + 7*time.Millisecond),
		Version:        0,
	}
}

// createVM inserts r and fails the test on error; it returns r as stored (Version 1).
func createVM(t *testing.T, s store.Store, r store.VMRecord) store.VMRecord {
	t.Helper()
	if err := s.CreateVM(t.Context(), r); err != nil {
		t.Fatalf("CreateVM(%q): %v", r.InstanceID, err)
	}
	r.Version = 1
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	return r
}

// getVM reads id and fails the test on error.
func getVM(t *testing.T, s store.Store, id string) store.VMRecord {
	t.Helper()
	r, err := s.GetVM(t.Context(), id)
	if err != nil {
		t.Fatalf("GetVM(%q): %v", id, err)
	}
	return r
}

// checkVMUTC fails the test if any non-zero time of r is not in UTC (cmp compares times with
// Equal, which ignores the location).
func checkVMUTC(t *testing.T, r store.VMRecord) {
	t.Helper()
	for field, v := range map[string]time.Time{
		"CreatedAt": r.CreatedAt, "UpdatedAt": r.UpdatedAt, "ExpiresAt": r.ExpiresAt,
	} {
		if !v.IsZero() && v.Location() != time.UTC {
			t.Errorf("%s of VM %q: got location %v, want UTC", field, r.InstanceID, v.Location())
		}
	}
}

func testVMCreateAndGet(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	east := time.FixedZone("UTC+5", 5*60*60)
	tests := []struct {
		name string
		in   func(r *store.VMRecord)
		want func(r *store.VMRecord) // from the input, with Version 1
	}{
		{"every field", func(*store.VMRecord) {}, func(*store.VMRecord) {}},
		{"version ignored", func(r *store.VMRecord) { r.Version = 7 }, func(*store.VMRecord) {}},
		{"nil tags", func(r *store.VMRecord) { r.Tags = nil }, func(*store.VMRecord) {}},
		{"empty tags come back nil", func(r *store.VMRecord) { r.Tags = []string{} }, func(r *store.VMRecord) { r.Tags = nil }},
		{"one tag", func(r *store.VMRecord) { r.Tags = []string{"only"} }, func(*store.VMRecord) {}},
		{
			"times in another zone come back in UTC",
			func(r *store.VMRecord) {
				r.CreatedAt, r.UpdatedAt, r.ExpiresAt = r.CreatedAt.In(east), r.UpdatedAt.In(east), r.ExpiresAt.Local()
			},
			func(r *store.VMRecord) {
				r.CreatedAt, r.UpdatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.ExpiresAt.UTC()
			},
		},
		{
			"only the key and state: zero values and zero times stay zero",
			func(r *store.VMRecord) { *r = store.VMRecord{InstanceID: r.InstanceID, State: store.VMLaunching} },
			func(*store.VMRecord) {},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := vmRecord("i-0create"+string(rune('a'+i)), "alpha", "prod", store.VMRegistered)
			tc.in(&in)
			if err := s.CreateVM(t.Context(), in); err != nil {
				t.Fatalf("CreateVM: %v", err)
			}
			want := in
			want.Version = 1
			tc.want(&want)
			got := getVM(t, s, in.InstanceID)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetVM after CreateVM (-want +got):\n%s", diff)
			}
			checkVMUTC(t, got)
		})
	}
}

func testVMCreateDuplicate(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	first := createVM(t, s, vmRecord("i-0dup", "alpha", "prod", store.VMLaunching))
	second := vmRecord("i-0dup", "beta", "test", store.VMRegistered)
	if err := s.CreateVM(t.Context(), second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateVM: got %v, want ErrConflict", err)
	}
	if diff := cmp.Diff(first, getVM(t, s, "i-0dup")); diff != "" {
		t.Errorf("record after failed duplicate create (-want +got):\n%s", diff)
	}
}

func testVMCreateEmptyID(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	if err := s.CreateVM(t.Context(), vmRecord("", "alpha", "prod", store.VMLaunching)); err == nil {
		t.Fatal("CreateVM with an empty instance id: got nil error, want an error")
	}
	got, err := s.ListVMs(t.Context(), store.VMFilter{})
	if err != nil {
		t.Fatalf("ListVMs: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("ListVMs after a rejected create: got %d records, want none", len(got))
	}
}

func testVMGetMissing(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	if _, err := s.GetVM(t.Context(), "i-0nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetVM(missing): got %v, want ErrNotFound", err)
	}
}

func testVMUpdateCurrentVersion(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	in := vmRecord("i-0upd", "alpha", "prod", store.VMLaunching)
	in.ResourceID, in.AgentID, in.PoolID, in.EnvironmentID = 0, 0, 0, 0
	in.LifecycleHook, in.LifecycleToken, in.ExpiresAt = "", "", time.Time{}
	cur := createVM(t, s, in)
	for i, step := range []func(*store.VMRecord){
		func(r *store.VMRecord) { // the resource appeared
			r.State, r.Reason = store.VMRegistered, "resource appeared"
			r.EnvironmentID, r.ResourceID, r.PoolID, r.AgentID = 9, 231, 12, 77
		},
		func(r *store.VMRecord) { // termination through a hook
			r.State, r.Reason = store.VMTerminating, "terminate lifecycle action"
			r.LifecycleHook, r.LifecycleToken = "drain-hook", "tok-1"
			r.Tags = []string{"Zone A", "web"} // reordered: order is kept as given
		},
		func(r *store.VMRecord) { // finished: clearing fields must stick too
			r.State, r.Reason = store.VMGone, ""
			r.LifecycleHook, r.LifecycleToken, r.ResourceID, r.AgentID = "", "", 0, 0
			r.Tags = []string{}
			r.ExpiresAt = base.Add(24*time.Hour + 250*time.Millisecond)
		},
		func(r *store.VMRecord) { // and a cleared time stays zero
			r.ExpiresAt, r.CreatedAt = time.Time{}, time.Time{}
		},
	} {
		next := cur
		next.Tags = slices.Clone(cur.Tags)
		step(&next)
		next.UpdatedAt = base.Add(time.Duration(i+2) * time.Second)
		got, err := s.UpdateVM(t.Context(), next)
		if err != nil {
			t.Fatalf("UpdateVM step %d: %v", i, err)
		}
		want := next
		want.Version = cur.Version + 1
		if len(want.Tags) == 0 {
			want.Tags = nil
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UpdateVM step %d returned (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(got, getVM(t, s, "i-0upd")); diff != "" {
			t.Errorf("GetVM after step %d differs from what UpdateVM returned (-returned +read):\n%s", i, diff)
		}
		checkVMUTC(t, got)
		cur = got
	}
}

func testVMUpdateStaleVersion(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	v1 := createVM(t, s, vmRecord("i-0stale", "alpha", "prod", store.VMLaunching))
	moved := v1
	moved.State = store.VMRegistered
	v2, err := s.UpdateVM(t.Context(), moved)
	if err != nil {
		t.Fatalf("UpdateVM: %v", err)
	}
	for _, version := range []int64{0, 1, 3, 99, -1} {
		stale := v1
		stale.Version, stale.State, stale.Reason = version, store.VMGone, "stale writer"
		if _, err := s.UpdateVM(t.Context(), stale); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateVM with version %d (stored 2): got %v, want ErrConflict", version, err)
		}
	}
	if diff := cmp.Diff(v2, getVM(t, s, "i-0stale")); diff != "" {
		t.Errorf("record after stale updates (-want +got):\n%s", diff)
	}
}

func testVMUpdateMissing(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	r := vmRecord("i-0ghost", "alpha", "prod", store.VMRegistered)
	r.Version = 1
	if _, err := s.UpdateVM(t.Context(), r); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateVM(never created): got %v, want ErrNotFound", err)
	}
	if _, err := s.GetVM(t.Context(), r.InstanceID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetVM after UpdateVM of a missing record: got %v, want ErrNotFound (an update must not create)", err)
	}
	createVM(t, s, vmRecord("i-0deleted", "alpha", "prod", store.VMLaunching))
	if err := s.DeleteVM(t.Context(), "i-0deleted"); err != nil {
		t.Fatalf("DeleteVM: %v", err)
	}
	r.InstanceID = "i-0deleted"
	if _, err := s.UpdateVM(t.Context(), r); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateVM(deleted): got %v, want ErrNotFound", err)
	}
}

func testVMList(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	seed := []store.VMRecord{
		vmRecord("a-prod-launching", "alpha", "prod", store.VMLaunching),
		vmRecord("a-prod-registered", "alpha", "prod", store.VMRegistered),
		vmRecord("a-prod-gone", "alpha", "prod", store.VMGone),
		vmRecord("a-test-registered", "alpha", "test", store.VMRegistered),
		vmRecord("b-prod-registered", "beta", "prod", store.VMRegistered), // same Environment name, other project
		vmRecord("b-prod-terminating", "beta", "prod", store.VMTerminating),
		vmRecord("ax-prod-registered", "alpha-x", "prod-x", store.VMRegistered), // names that extend others
	}
	stored := map[string]store.VMRecord{}
	for _, r := range seed {
		stored[r.InstanceID] = createVM(t, s, r)
	}
	all := []string{"a-prod-gone", "a-prod-launching", "a-prod-registered", "a-test-registered", "ax-prod-registered", "b-prod-registered", "b-prod-terminating"}
	states := func(ss ...store.VMState) []store.VMState { return ss }
	tests := []struct {
		name string
		f    store.VMFilter
		want []string
	}{
		{"no filter", store.VMFilter{}, all},
		{"empty states slice", store.VMFilter{States: []store.VMState{}}, all},
		{"project", store.VMFilter{Project: "alpha"}, []string{"a-prod-gone", "a-prod-launching", "a-prod-registered", "a-test-registered"}},
		{"environment across projects", store.VMFilter{Environment: "prod"}, []string{"a-prod-gone", "a-prod-launching", "a-prod-registered", "b-prod-registered", "b-prod-terminating"}},
		{"one state", store.VMFilter{States: states(store.VMRegistered)}, []string{"a-prod-registered", "a-test-registered", "ax-prod-registered", "b-prod-registered"}},
		{"two states", store.VMFilter{States: states(store.VMLaunching, store.VMTerminating)}, []string{"a-prod-launching", "b-prod-terminating"}},
		{"repeated state", store.VMFilter{States: states(store.VMGone, store.VMGone)}, []string{"a-prod-gone"}},
		{"project and environment", store.VMFilter{Project: "alpha", Environment: "prod"}, []string{"a-prod-gone", "a-prod-launching", "a-prod-registered"}},
		{"project and states", store.VMFilter{Project: "beta", States: states(store.VMRegistered, store.VMTerminating)}, []string{"b-prod-registered", "b-prod-terminating"}},
		{"environment and state", store.VMFilter{Environment: "prod", States: states(store.VMRegistered)}, []string{"a-prod-registered", "b-prod-registered"}},
		{"all three", store.VMFilter{Project: "alpha", Environment: "prod", States: states(store.VMLaunching, store.VMGone)}, []string{"a-prod-gone", "a-prod-launching"}},
		{"no match", store.VMFilter{Project: "alpha", Environment: "test", States: states(store.VMGone)}, nil},
		{"unknown project", store.VMFilter{Project: "gamma"}, nil},
		{"exact, case-sensitive match", store.VMFilter{Project: "Alpha"}, nil},
		{"no prefix match", store.VMFilter{Project: "alph"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListVMs(t.Context(), tc.f)
			if err != nil {
				t.Fatalf("ListVMs(%+v): %v", tc.f, err)
			}
			slices.SortFunc(got, func(a, b store.VMRecord) int { return strings.Compare(a.InstanceID, b.InstanceID) })
			var want []store.VMRecord
			for _, id := range tc.want {
				want = append(want, stored[id])
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListVMs(%+v) (-want +got):\n%s", tc.f, diff)
			}
			for _, r := range got {
				checkVMUTC(t, r)
			}
		})
	}
}

func testVMDelete(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	createVM(t, s, vmRecord("i-0one", "alpha", "prod", store.VMGone))
	keep := createVM(t, s, vmRecord("i-0two", "alpha", "prod", store.VMRegistered))
	for i := range 2 { // the second delete finds nothing and must still succeed
		if err := s.DeleteVM(t.Context(), "i-0one"); err != nil {
			t.Fatalf("DeleteVM #%d: %v", i+1, err)
		}
	}
	if err := s.DeleteVM(t.Context(), "i-0never"); err != nil {
		t.Errorf("DeleteVM(never existed): got %v, want nil", err)
	}
	if _, err := s.GetVM(t.Context(), "i-0one"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetVM after delete: got %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff(keep, getVM(t, s, "i-0two")); diff != "" {
		t.Errorf("other record after delete (-want +got):\n%s", diff)
	}
	got, err := s.ListVMs(t.Context(), store.VMFilter{})
	if err != nil {
		t.Fatalf("ListVMs: %v", err)
	}
	if diff := cmp.Diff([]store.VMRecord{keep}, got); diff != "" {
		t.Errorf("ListVMs after delete (-want +got):\n%s", diff)
	}
	// The id is free again, and a new record starts over at version 1.
	again := createVM(t, s, vmRecord("i-0one", "beta", "test", store.VMLaunching))
	if diff := cmp.Diff(again, getVM(t, s, "i-0one")); diff != "" {
		t.Errorf("re-created record (-want +got):\n%s", diff)
	}
}
