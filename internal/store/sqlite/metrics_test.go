package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := t.Context()
	// Two stores on one registry (a reopen): the second shares the first's series.
	for i := range 2 {
		s, err := sqlite.Open(ctx, path, sqlite.Options{Registerer: reg})
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		_ = s.CreateAgent(ctx, store.AgentRecord{Name: "a", Pool: "p", State: store.StateLaunching}) // ok, then conflict
		_, _ = s.GetAgent(ctx, "missing")
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	tests := []struct {
		op, result string
		want       float64
	}{
		{"create_agent", "ok", 1},
		{"create_agent", "conflict", 1},
		{"get_agent", "not_found", 2},
		{"get_agent", "ok", 0},
	}
	for _, tc := range tests {
		c, err := counter(reg, tc.op, tc.result)
		if err != nil {
			t.Fatal(err)
		}
		if c != tc.want {
			t.Errorf("adofleet_store_operations_total{operation=%q,result=%q}: got %v, want %v", tc.op, tc.result, c, tc.want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "adofleet_store_operation_duration_seconds"); err != nil || n != 2 {
		t.Errorf("duration series: got %d, %v; want 2 (create_agent, get_agent)", n, err)
	}
}

// counter reads one series of adofleet_store_operations_total; absent is 0.
func counter(reg *prometheus.Registry, op, result string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() != "adofleet_store_operations_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operation"] == op && labels["result"] == result && labels["backend"] == "sqlite" {
				return m.GetCounter().GetValue(), nil
			}
		}
	}
	return 0, nil
}
