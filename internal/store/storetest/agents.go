package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/adofleet/adofleet/internal/store"
)

func testCreateAndGet(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	in := record("agent-1", "linux", store.StateLaunching)
	in.Version = 7 // ignored: a new record starts at 1
	east := time.FixedZone("UTC+5", 5*60*60)
	in.CreatedAt = in.CreatedAt.In(east)
	if err := s.CreateAgent(t.Context(), in); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	got := get(t, s, "agent-1")
	want := in
	want.Version = 1
	want.CreatedAt = base
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetAgent after CreateAgent (-want +got):\n%s", diff)
	}
	checkUTC(t, got)
}

func testCreateDuplicate(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	first := create(t, s, record("agent-1", "linux", store.StateLaunching))
	second := record("agent-1", "windows", store.StateRegistered)
	if err := s.CreateAgent(t.Context(), second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateAgent: got %v, want ErrConflict", err)
	}
	if diff := cmp.Diff(first, get(t, s, "agent-1")); diff != "" {
		t.Errorf("record after failed duplicate create (-want +got):\n%s", diff)
	}
}

func testCreateEmptyName(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	if err := s.CreateAgent(t.Context(), record("", "linux", store.StateLaunching)); err == nil {
		t.Fatal("CreateAgent with an empty name: got nil error, want an error")
	}
}

func testGetMissing(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	_, err := s.GetAgent(t.Context(), "nobody")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetAgent(missing): got %v, want ErrNotFound", err)
	}
}

func testUpdateCurrentVersion(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	cur := create(t, s, record("agent-1", "linux", store.StateLaunching))
	for i, step := range []func(*store.AgentRecord){
		func(r *store.AgentRecord) {
			r.State, r.InstanceID, r.Reason = store.StateLaunched, "i-0abc", "instance started"
		},
		func(r *store.AgentRecord) {
			r.State, r.AgentID, r.RegisteredAt = store.StateRegistered, 77, base.Add(time.Minute)
			r.Reason, r.JobRequestID = "agent registered", 1234
		},
		func(r *store.AgentRecord) {
			// Clearing fields must stick too.
			r.State, r.InstanceID, r.RegisteredAt, r.Reason = store.StateGone, "", time.Time{}, ""
		},
	} {
		next := cur
		step(&next)
		next.UpdatedAt = base.Add(time.Duration(i+2) * time.Second)
		got, err := s.UpdateAgent(t.Context(), next)
		if err != nil {
			t.Fatalf("UpdateAgent step %d: %v", i, err)
		}
		want := next
		want.Version = cur.Version + 1
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UpdateAgent step %d returned (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(got, get(t, s, "agent-1")); diff != "" {
			t.Errorf("GetAgent after step %d differs from what UpdateAgent returned (-returned +read):\n%s", i, diff)
		}
		checkUTC(t, got)
		cur = got
	}
}

func testUpdateStaleVersion(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	v1 := create(t, s, record("agent-1", "linux", store.StateLaunching))
	moved := v1
	moved.State = store.StateLaunched
	v2, err := s.UpdateAgent(t.Context(), moved)
	if err != nil {
		t.Fatalf("UpdateAgent: %v", err)
	}
	for _, version := range []int64{0, 1, 3, 99} {
		stale := v1
		stale.Version, stale.State, stale.Reason = version, store.StateDraining, "stale writer"
		if _, err := s.UpdateAgent(t.Context(), stale); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateAgent with version %d (stored 2): got %v, want ErrConflict", version, err)
		}
	}
	if diff := cmp.Diff(v2, get(t, s, "agent-1")); diff != "" {
		t.Errorf("record after stale updates (-want +got):\n%s", diff)
	}
}

func testUpdateMissing(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	r := record("ghost", "linux", store.StateLaunched)
	r.Version = 1
	if _, err := s.UpdateAgent(t.Context(), r); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAgent(never created): got %v, want ErrNotFound", err)
	}
	create(t, s, record("deleted", "linux", store.StateLaunching))
	if err := s.DeleteAgent(t.Context(), "deleted"); err != nil {
		t.Fatalf("DeleteAgent: %v", err)
	}
	r.Name = "deleted"
	if _, err := s.UpdateAgent(t.Context(), r); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAgent(deleted): got %v, want ErrNotFound", err)
	}
}

func testListAgents(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	seed := []store.AgentRecord{
		record("l-launching", "linux", store.StateLaunching),
		record("l-launched", "linux", store.StateLaunched),
		record("l-registered", "linux", store.StateRegistered),
		record("l-gone", "linux", store.StateGone),
		record("w-registered", "windows", store.StateRegistered),
		record("w-draining", "windows", store.StateDraining),
		record("lx-registered", "linux-x", store.StateRegistered), // a pool whose name extends another
	}
	stored := map[string]store.AgentRecord{}
	for _, r := range seed {
		stored[r.Name] = create(t, s, r)
	}
	tests := []struct {
		name   string
		pool   string
		states []store.AgentState
		want   []string
	}{
		{"one pool, all states", "linux", nil, []string{"l-gone", "l-launched", "l-launching", "l-registered"}},
		{"all pools", "", nil, []string{"l-gone", "l-launched", "l-launching", "l-registered", "lx-registered", "w-draining", "w-registered"}},
		{"one pool, one state", "windows", []store.AgentState{store.StateDraining}, []string{"w-draining"}},
		{"one pool, two states", "linux", []store.AgentState{store.StateLaunching, store.StateLaunched}, []string{"l-launched", "l-launching"}},
		{"all pools, one state", "", []store.AgentState{store.StateRegistered}, []string{"l-registered", "lx-registered", "w-registered"}},
		{"repeated state", "linux", []store.AgentState{store.StateGone, store.StateGone}, []string{"l-gone"}},
		{"no match", "windows", []store.AgentState{store.StateGone}, nil},
		{"unknown pool", "mac", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAgents(t.Context(), tc.pool, tc.states...)
			if err != nil {
				t.Fatalf("ListAgents(%q, %v): %v", tc.pool, tc.states, err)
			}
			slices.SortFunc(got, func(a, b store.AgentRecord) int { return strings.Compare(a.Name, b.Name) })
			var want []store.AgentRecord
			for _, n := range tc.want {
				want = append(want, stored[n])
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListAgents(%q, %v) (-want +got):\n%s", tc.pool, tc.states, diff)
			}
		})
	}
	// store.AppendAgents, through the backend's own AppendAgents where it has one, lists what
	// ListAgents lists after what the caller's slice holds, whatever its spare capacity holds.
	_, native := s.Store.(store.AgentAppender)
	t.Run(fmt.Sprintf("AppendAgents (backend's own: %t)", native), func(t *testing.T) {
		buf := make([]store.AgentRecord, 1, 8)
		buf[0] = store.AgentRecord{Name: "the caller's"}
		stale := slices.Repeat([]store.AgentRecord{{Name: "stale", Pool: "linux"}}, 7)
		for _, pool := range []string{"linux", "", "windows", "mac"} {
			copy(buf[1:cap(buf)], stale)
			want, err := s.ListAgents(t.Context(), pool)
			if err != nil {
				t.Fatalf("ListAgents(%q): %v", pool, err)
			}
			got, err := store.AppendAgents(t.Context(), s.Store, buf[:1], pool)
			if err != nil {
				t.Fatalf("AppendAgents(%q): %v", pool, err)
			}
			if got[0].Name != "the caller's" {
				t.Errorf("AppendAgents(%q) replaced the caller's first record with %q", pool, got[0].Name)
			}
			got = got[1:]
			for _, l := range [][]store.AgentRecord{want, got} {
				slices.SortFunc(l, func(a, b store.AgentRecord) int { return strings.Compare(a.Name, b.Name) })
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("AppendAgents(%q) after the caller's record (-ListAgents +AppendAgents):\n%s", pool, diff)
			}
		}
	})
}

func testDeleteAgent(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	create(t, s, record("agent-1", "linux", store.StateGone))
	keep := create(t, s, record("agent-2", "linux", store.StateRegistered))
	for i := range 2 { // the second delete finds nothing and must still succeed
		if err := s.DeleteAgent(t.Context(), "agent-1"); err != nil {
			t.Fatalf("DeleteAgent #%d: %v", i+1, err)
		}
	}
	if err := s.DeleteAgent(t.Context(), "never-existed"); err != nil {
		t.Errorf("DeleteAgent(never existed): got %v, want nil", err)
	}
	if _, err := s.GetAgent(t.Context(), "agent-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAgent after delete: got %v, want ErrNotFound", err)
	}
	if diff := cmp.Diff(keep, get(t, s, "agent-2")); diff != "" {
		t.Errorf("other record after delete (-want +got):\n%s", diff)
	}
	// The name is free again, and a new record starts over at version 1.
	again := create(t, s, record("agent-1", "windows", store.StateLaunching))
	if diff := cmp.Diff(again, get(t, s, "agent-1")); diff != "" {
		t.Errorf("re-created record (-want +got):\n%s", diff)
	}
}
