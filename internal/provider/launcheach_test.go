package provider_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
)

func TestLaunchEach(t *testing.T) {
	t.Parallel()
	agents := []provider.AgentSpec{{Name: "c"}, {Name: "a"}, {Name: ""}, {Name: "bad"}, {Name: "b"}}
	enter, most := inFlightPeak()
	var failedNames []string
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got, err := provider.LaunchEach(context.Background(), agents, 2, func(_ context.Context, agent string) (provider.Instance, error) {
		defer enter()()
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

func TestTerminateEach(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	enter, most := inFlightPeak()
	errRefused := errors.New("refused")
	err := provider.TerminateEach(context.Background(), []string{"a", "bad", "b", "c", "worse"}, 2, func(_ context.Context, id string) error {
		calls.Add(1)
		defer enter()()
		if id == "bad" || id == "worse" {
			return fmt.Errorf("terminate %s: %w", id, errRefused)
		}
		return nil
	})
	if got := calls.Load(); got != 5 {
		t.Errorf("calls = %d, want 5", got)
	}
	if got := most.Load(); got > 2 {
		t.Errorf("%d calls at once, want at most 2", got)
	}
	if !errors.Is(err, errRefused) {
		t.Fatalf("err = %v, want the calls' errors joined", err)
	}
	for _, id := range []string{"bad", "worse"} {
		if !strings.Contains(err.Error(), "terminate "+id) {
			t.Errorf("err = %v, want it to name %s", err, id)
		}
	}
	if err := provider.TerminateEach(context.Background(), nil, 2, nil); err != nil {
		t.Errorf("no ids: err = %v, want nil", err)
	}
}

// inFlightPeak counts calls in flight: each call runs defer enter()(), and most holds the
// largest number seen at once.
func inFlightPeak() (enter func() (leave func()), most *atomic.Int32) {
	var inFlight atomic.Int32
	most = new(atomic.Int32)
	return func() func() {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		return func() { inFlight.Add(-1) }
	}, most
}
