package storetest

import (
	"sync"
	"testing"

	"github.com/adofleet/adofleet/internal/store"
)

func testClaimCallback(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	// Keys that differ in one part, or only in where a separator falls, are different keys: a
	// backend that joins the parts into one string must not make them collide.
	keys := []store.CallbackKey{
		{PlanID: "plan-1", JobID: "job-1", TaskInstanceID: "task-1"},
		{PlanID: "plan-2", JobID: "job-1", TaskInstanceID: "task-1"},
		{PlanID: "plan-1", JobID: "job-2", TaskInstanceID: "task-1"},
		{PlanID: "plan-1", JobID: "job-1", TaskInstanceID: "task-2"},
		{PlanID: "a|b", JobID: "c", TaskInstanceID: "d"},
		{PlanID: "a", JobID: "b|c", TaskInstanceID: "d"},
		{PlanID: "a#b", JobID: "c", TaskInstanceID: "d"},
		{PlanID: "a", JobID: "b#c", TaskInstanceID: "d"},
		{PlanID: "a/b", JobID: "c", TaskInstanceID: "d"},
		{PlanID: "a", JobID: "b/c", TaskInstanceID: "d"},
		{PlanID: "a:b", JobID: "c", TaskInstanceID: "d"},
		{PlanID: "a", JobID: "b:c", TaskInstanceID: "d"},
	}
	for _, k := range keys {
		ok, err := s.ClaimCallback(t.Context(), k, "succeeded", base)
		if err != nil {
			t.Fatalf("ClaimCallback(%+v): %v", k, err)
		}
		if !ok {
			t.Errorf("first ClaimCallback(%+v): got false, want true", k)
		}
	}
	for _, result := range []string{"succeeded", "failed"} { // a different result does not make a new claim
		for _, k := range keys {
			ok, err := s.ClaimCallback(t.Context(), k, result, base.Add(1))
			if err != nil {
				t.Fatalf("ClaimCallback(%+v) again: %v", k, err)
			}
			if ok {
				t.Errorf("repeated ClaimCallback(%+v, %q): got true, want false", k, result)
			}
		}
	}
}

// testClaimCallbackConcurrent races goroutines for the same keys: exactly one wins each.
func testClaimCallbackConcurrent(t *testing.T, h *harness) {
	s, _ := h.fresh(t)
	const racers, rounds = 8, 5
	for round := range rounds {
		key := store.CallbackKey{PlanID: "plan", JobID: "job", TaskInstanceID: string(rune('a' + round))}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				ok, err := s.ClaimCallback(t.Context(), key, "succeeded", base)
				if err != nil {
					t.Errorf("ClaimCallback(%+v): %v", key, err)
					return
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if wins != 1 {
			t.Errorf("key %+v: %d of %d racers won the claim, want exactly 1", key, wins, racers)
		}
	}
}
