package sqlite_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func benchStore(b *testing.B, opts sqlite.Options) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "state.db"), opts)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkCreateUpdate is one launch's store traffic: the intent, then the instance id.
func BenchmarkCreateUpdate(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run("synchronous="+sync, func(b *testing.B) {
			s := benchStore(b, sqlite.Options{Synchronous: sync})
			ctx := b.Context()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				r := store.AgentRecord{Name: "agent-" + strconv.Itoa(i), Pool: "linux", State: store.StateLaunching,
					LaunchToken: "tok", CreatedAt: base, UpdatedAt: base}
				i++
				if err := s.CreateAgent(ctx, r); err != nil {
					b.Fatalf("CreateAgent: %v", err)
				}
				r.Version, r.State, r.InstanceID = 1, store.StateLaunched, "i-0abc"
				if _, err := s.UpdateAgent(ctx, r); err != nil {
					b.Fatalf("UpdateAgent: %v", err)
				}
			}
		})
	}
}

// BenchmarkListAgents lists one pool of 10,000 records in a store that also holds other pools:
// from the list cache (nothing changed since the last list), and after a write to another table
// (the cache is emptied, the records are read again; the write is timed too, about 0.1 ms).
func BenchmarkListAgents(b *testing.B) {
	for _, changed := range []bool{false, true} {
		b.Run(fmt.Sprintf("changed=%v", changed), func(b *testing.B) {
			s := benchStore(b, sqlite.Options{})
			ctx := b.Context()
			for pool, n := range map[string]int{"big": 10_000, "other": 2_000} {
				for i := range n {
					r := store.AgentRecord{Name: fmt.Sprintf("%s-%05d", pool, i), Pool: pool, State: store.StateRegistered,
						InstanceID: "i-0abc", CreatedAt: base, UpdatedAt: base}
					if err := s.CreateAgent(ctx, r); err != nil {
						b.Fatalf("CreateAgent: %v", err)
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if changed {
					if err := s.AppendDecision(ctx, store.Decision{Time: base, Pool: "other", Action: "bench"}); err != nil {
						b.Fatalf("AppendDecision: %v", err)
					}
				}
				rs, err := s.ListAgents(ctx, "big")
				if err != nil || len(rs) != 10_000 {
					b.Fatalf("ListAgents: got %d, %v; want 10000", len(rs), err)
				}
			}
		})
	}
}

func BenchmarkClaimCallback(b *testing.B) {
	b.Run("new key", func(b *testing.B) {
		s := benchStore(b, sqlite.Options{})
		ctx := b.Context()
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			i++
			ok, err := s.ClaimCallback(ctx, store.CallbackKey{PlanID: "plan", JobID: strconv.Itoa(i), TaskInstanceID: "task"}, "succeeded", base)
			if err != nil || !ok {
				b.Fatalf("ClaimCallback: got %v, %v; want true", ok, err)
			}
		}
	})
	b.Run("claimed key", func(b *testing.B) {
		s := benchStore(b, sqlite.Options{})
		ctx := b.Context()
		key := store.CallbackKey{PlanID: "plan", JobID: "job", TaskInstanceID: "task"}
		if _, err := s.ClaimCallback(ctx, key, "succeeded", base); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := s.ClaimCallback(ctx, key, "succeeded", base); err != nil || ok {
				b.Fatalf("ClaimCallback: got %v, %v; want false", ok, err)
			}
		}
	})
	b.Run("parallel new keys", func(b *testing.B) {
		s := benchStore(b, sqlite.Options{})
		ctx := b.Context()
		var n atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				key := store.CallbackKey{PlanID: "plan", JobID: strconv.FormatInt(n.Add(1), 10), TaskInstanceID: "task"}
				if ok, err := s.ClaimCallback(ctx, key, "succeeded", base); err != nil || !ok {
					b.Errorf("ClaimCallback: got %v, %v; want true", ok, err)
					return
				}
			}
		})
	})
}

// BenchmarkVMLifecycle is lifecycle events into SQLite (storetest.BenchVMLifecycle).
func BenchmarkVMLifecycle(b *testing.B) {
	storetest.BenchVMLifecycle(b, benchStore(b, sqlite.Options{}))
}
