package provider_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

func TestLaunchEach(t *testing.T) {
	t.Parallel()
	agents := []provider.AgentSpec{{Name: "c"}, {Name: "a"}, {Name: ""}, {Name: "bad"}, {Name: "b"}}
	var inFlight, most atomic.Int32
	var failedNames []string
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got, err := provider.LaunchEach(context.Background(), agents, 2, func(_ context.Context, agent string) (provider.Instance, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if agent == "bad" {
			return provider.Instance{}, fmt.Errorf("no room: %w", provider.ErrInsufficientCapacity)
		}
		return provider.Instance{ID: "i-" + agent, AgentName: agent, LaunchedAt: base}, nil
	}, func(agent string, _ error) { failedNames = append(failedNames, agent) })

	var ids []string
	for _, in := range got {
		ids = append(ids, in.ID)
	}
	if want := []string{"i-a", "i-b", "i-c"}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("instances = %v, want %v (sorted)", ids, want)
	}
	var pe *provider.PartialError
	if !errors.As(err, &pe) || len(pe.Failed) != 2 {
		t.Fatalf("err = %v, want a PartialError naming the empty name and bad", err)
	}
	if !errors.Is(pe.Failed["bad"], provider.ErrInsufficientCapacity) || !errors.Is(pe.Failed[""], provider.ErrInvalidRequest) {
		t.Errorf("failures = %v, want capacity for bad and invalid request for the empty name", pe.Failed)
	}
	if !errors.Is(err, provider.ErrInsufficientCapacity) {
		t.Error("errors.Is does not see the per-agent cause through the PartialError")
	}
	if fmt.Sprint(failedNames) != "[bad]" {
		t.Errorf("onFail saw %v, want [bad]", failedNames)
	}
	if most.Load() > 2 {
		t.Errorf("%d launches in flight, want at most 2", most.Load())
	}
}
