package storemetrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/storemetrics"
)

// observe records one call of op that returns err, the way a store method defers it.
func observe(m *storemetrics.Metrics, op string, err error) {
	defer m.Observe(op, time.Now(), &err)
}

// TestOperations pins the counter's name, help, labels and the result each kind of error is
// counted as.
func TestOperations(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m, err := storemetrics.New(reg, "sqlite")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	observe(m, "get_agent", nil)
	observe(m, "get_agent", fmt.Errorf("get agent %q: %w", "a", store.ErrNotFound))
	observe(m, "update_agent", fmt.Errorf("update: %w", store.ErrConflict))
	observe(m, "list_agents", context.Canceled)
	observe(m, "list_agents", fmt.Errorf("query: %w", context.DeadlineExceeded))
	observe(m, "create_agent", errors.New("disk full"))
	observe(m, "delete_agent", fmt.Errorf("delete: %w", store.ErrFenced))
	want := `
# HELP adofleet_store_operations_total State store calls by operation and result (ok, not_found, conflict, fenced, canceled, error).
# TYPE adofleet_store_operations_total counter
adofleet_store_operations_total{backend="sqlite",operation="create_agent",result="error"} 1
adofleet_store_operations_total{backend="sqlite",operation="delete_agent",result="fenced"} 1
adofleet_store_operations_total{backend="sqlite",operation="get_agent",result="not_found"} 1
adofleet_store_operations_total{backend="sqlite",operation="get_agent",result="ok"} 1
adofleet_store_operations_total{backend="sqlite",operation="list_agents",result="canceled"} 2
adofleet_store_operations_total{backend="sqlite",operation="update_agent",result="conflict"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "adofleet_store_operations_total"); err != nil {
		t.Error(err)
	}
}

// TestDuration pins the histogram's name, help, labels and buckets; the observed values are
// wall-clock time, so only their count is checked.
func TestDuration(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m, err := storemetrics.New(reg, "postgres")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	observe(m, "get_agent", nil)
	observe(m, "get_agent", store.ErrNotFound)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var found bool
	for _, mf := range mfs {
		if mf.GetName() != "adofleet_store_operation_duration_seconds" {
			continue
		}
		found = true
		if got, want := mf.GetHelp(), "State store call latency by operation."; got != want {
			t.Errorf("help: got %q, want %q", got, want)
		}
		if len(mf.GetMetric()) != 1 {
			t.Fatalf("series: got %d, want 1 (get_agent)", len(mf.GetMetric()))
		}
		s := mf.GetMetric()[0]
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if diff := cmp.Diff(map[string]string{"backend": "postgres", "operation": "get_agent"}, labels); diff != "" {
			t.Errorf("labels (-want +got):\n%s", diff)
		}
		h := s.GetHistogram()
		if h.GetSampleCount() != 2 {
			t.Errorf("sample count: got %d, want 2", h.GetSampleCount())
		}
		var bounds []float64
		for _, b := range h.GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		if diff := cmp.Diff([]float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5}, bounds); diff != "" {
			t.Errorf("buckets (-want +got):\n%s", diff)
		}
	}
	if !found {
		t.Error("no adofleet_store_operation_duration_seconds on the registry")
	}
}

// A reopened store shares the series of the first on the same registry, and backends sit side
// by side on one registry, told apart by their label.
func TestRegisterTwice(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	for _, backend := range []string{"sqlite", "sqlite", "dynamodb"} {
		m, err := storemetrics.New(reg, backend)
		if err != nil {
			t.Fatalf("New(%q): %v", backend, err)
		}
		observe(m, "get_agent", nil)
	}
	want := `
# HELP adofleet_store_operations_total State store calls by operation and result (ok, not_found, conflict, fenced, canceled, error).
# TYPE adofleet_store_operations_total counter
adofleet_store_operations_total{backend="dynamodb",operation="get_agent",result="ok"} 1
adofleet_store_operations_total{backend="sqlite",operation="get_agent",result="ok"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "adofleet_store_operations_total"); err != nil {
		t.Error(err)
	}
}

// A nil registerer leaves the metrics unregistered but usable.
func TestNilRegisterer(t *testing.T) {
	t.Parallel()
	m, err := storemetrics.New(nil, "sqlite")
	if err != nil {
		t.Fatalf("New(nil): %v", err)
	}
	observe(m, "get_agent", nil)
}
