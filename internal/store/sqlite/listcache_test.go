package sqlite_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// names lists pool's record names and states as the store answers.
func names(t *testing.T, s *sqlite.Store, pool string, states ...store.AgentState) []string {
	t.Helper()
	recs, err := s.ListAgents(t.Context(), pool, states...)
	if err != nil {
		t.Fatalf("ListAgents(%q): %v", pool, err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Name+":"+string(r.State))
	}
	return out
}

// TestListCache: ListAgents answers from its cache only while the pool's records are unchanged,
// by this store or by another one on the same file (another process, a controller after a
// takeover); a write to another pool or another table leaves the entry in use.
func TestListCache(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t, sqlite.Options{})
	other, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("open a second store on the file: %v", err)
	}
	t.Cleanup(func() { _ = other.Close() })
	ctx := t.Context()
	mk := func(name, pool string) store.AgentRecord {
		return store.AgentRecord{Name: name, Pool: pool, State: store.StateLaunching, CreatedAt: base, UpdatedAt: base}
	}
	for _, r := range []store.AgentRecord{mk("b", "linux"), mk("a", "linux"), mk("w", "windows")} {
		if err := s.CreateAgent(ctx, r); err != nil {
			t.Fatalf("CreateAgent: %v", err)
		}
	}
	update := func(st *sqlite.Store, name string, state store.AgentState) {
		t.Helper()
		r, err := st.GetAgent(ctx, name)
		if err != nil {
			t.Fatalf("GetAgent(%s): %v", name, err)
		}
		r.State = state
		if _, err := st.UpdateAgent(ctx, r); err != nil {
			t.Fatalf("UpdateAgent(%s): %v", name, err)
		}
	}

	steps := []struct {
		name     string
		change   func()
		pool     string
		states   []store.AgentState
		want     []string
		wantHits int // cache hits after the step
	}{
		{"first list reads", nil, "linux", nil, []string{"a:launching", "b:launching"}, 0},
		{"unchanged: cached", nil, "linux", nil, []string{"a:launching", "b:launching"}, 1},
		{"states filter the cached records", nil, "linux", []store.AgentState{store.StateLaunched}, nil, 2},
		{"another pool reads", nil, "windows", nil, []string{"w:launching"}, 2},
		{"every pool reads", nil, "", nil, []string{"a:launching", "b:launching", "w:launching"}, 2},
		{"update by this store", func() { update(s, "a", store.StateLaunched) },
			"linux", nil, []string{"a:launched", "b:launching"}, 2},
		{"filter after the update", nil, "linux", []store.AgentState{store.StateLaunched}, []string{"a:launched"}, 3},
		{"update by another store", func() { update(other, "b", store.StateRegistered) },
			"linux", nil, []string{"a:launched", "b:registered"}, 3},
		{"create by another store", func() {
			if err := other.CreateAgent(ctx, mk("c", "linux")); err != nil {
				t.Fatalf("CreateAgent: %v", err)
			}
		}, "linux", nil, []string{"a:launched", "b:registered", "c:launching"}, 3},
		{"delete by another store", func() {
			if err := other.DeleteAgent(ctx, "a"); err != nil {
				t.Fatalf("DeleteAgent: %v", err)
			}
		}, "linux", nil, []string{"b:registered", "c:launching"}, 3},
		{"other pools stay cached", nil, "windows", nil, []string{"w:launching"}, 4},
		{"so does every pool's list", nil, "", nil, []string{"b:registered", "c:launching", "w:launching"}, 4},
		{"a write to another table keeps the pool cached", func() {
			if err := other.AppendDecision(ctx, store.Decision{Time: base, Pool: "linux", Action: "bench"}); err != nil {
				t.Fatalf("AppendDecision: %v", err)
			}
		}, "linux", nil, []string{"b:registered", "c:launching"}, 5},
		{"every pool's list too", nil, "", nil, []string{"b:registered", "c:launching", "w:launching"}, 6},
		{"a record moved to another pool", func() {
			r, err := s.GetAgent(ctx, "c")
			if err != nil {
				t.Fatalf("GetAgent: %v", err)
			}
			r.Pool = "windows"
			if _, err := s.UpdateAgent(ctx, r); err != nil {
				t.Fatalf("UpdateAgent: %v", err)
			}
		}, "windows", nil, []string{"c:launching", "w:launching"}, 6},
		{"leaves the pool it left", nil, "linux", nil, []string{"b:registered"}, 6},
		{"and every pool's list is read again", nil, "", nil, []string{"b:registered", "c:launching", "w:launching"}, 6},
		{"then all are cached", nil, "windows", nil, []string{"c:launching", "w:launching"}, 7},
	}
	for _, st := range steps {
		if st.change != nil {
			st.change()
		}
		got := names(t, s, st.pool, st.states...)
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: ListAgents(%q, %v) (-want +got):\n%s", st.name, st.pool, st.states, diff)
		}
		if got := sqlite.ListCacheHits(s); got != st.wantHits {
			t.Errorf("%s: got %d cache hits, want %d", st.name, got, st.wantHits)
		}
	}
}

// TestListCacheReturnsCopies: a caller changing the records it was given changes nothing the
// next caller sees.
func TestListCacheReturnsCopies(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, sqlite.Options{})
	ctx := t.Context()
	if err := s.CreateAgent(ctx, store.AgentRecord{Name: "a", Pool: "linux", State: store.StateLaunching}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	for range 3 {
		recs, err := s.ListAgents(ctx, "linux")
		if err != nil || len(recs) != 1 {
			t.Fatalf("ListAgents: got %v, %v; want one record", recs, err)
		}
		if recs[0].State != store.StateLaunching {
			t.Fatalf("got state %s, want launching: an earlier caller's change leaked", recs[0].State)
		}
		recs[0].State = store.StateGone
	}
	if got := sqlite.ListCacheHits(s); got != 2 {
		t.Errorf("got %d cache hits, want 2", got)
	}
}

// TestListCacheCanceled: a canceled context fails even when the answer is cached.
func TestListCacheCanceled(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, sqlite.Options{})
	if _, err := s.ListAgents(t.Context(), "linux"); err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.ListAgents(ctx, "linux"); !errors.Is(err, context.Canceled) {
		t.Errorf("ListAgents with a canceled context: got %v, want context.Canceled", err)
	}
}
