package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/store"
)

// BenchVMLifecycle measures lifecycle events into s, each the store traffic an Auto Scaling
// lifecycle event causes: CreateVM (launching, with its hook and token) then UpdateVM
// (registered, with the resource and agent ids). "serial" is one event at a time; "parallel"
// runs GOMAXPROCS x 4 writers at once, as concurrent Lambda invocations or events do. Besides
// time and allocations it reports events/s.
func BenchVMLifecycle(b *testing.B, s store.VMResources) {
	var seq atomic.Int64
	event := func(ctx context.Context) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		r := store.VMRecord{
			InstanceID: fmt.Sprintf("i-%017x", seq.Add(1)), AutoScalingGroup: "web-asg", Project: "web",
			Environment: "production", EnvironmentID: 4, ResourceName: "", Tags: []string{"web", "linux"},
			State: store.VMLaunching, Reason: "launch lifecycle hook", LifecycleHook: "adofleet-launch",
			LifecycleToken: "5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", CreatedAt: now, UpdatedAt: now,
		}
		if err := s.CreateVM(ctx, r); err != nil {
			return fmt.Errorf("CreateVM %s: %w", r.InstanceID, err)
		}
		r.Version, r.State, r.Reason = 1, store.VMRegistered, "agent registered"
		r.ResourceName, r.ResourceID, r.PoolID, r.AgentID = r.InstanceID, 77, 9, 31
		if _, err := s.UpdateVM(ctx, r); err != nil {
			return fmt.Errorf("UpdateVM %s: %w", r.InstanceID, err)
		}
		return nil
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if err := event(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := event(b.Context()); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
}
