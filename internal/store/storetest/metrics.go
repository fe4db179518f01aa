package storetest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/adofleet/adofleet/internal/store"
)

// MetricsOpener opens a store that registers its metrics on reg. Every call opens the same
// backing data (a file, a schema, a table chosen once by the caller), so a second call is a
// reopen. RunMetrics closes every store it opens; a MetricsOpener must not.
type MetricsOpener func(t *testing.T, reg prometheus.Registerer) store.Store

// RunMetrics checks the store call metrics of backend (the backend label): calls are counted by
// operation and result, timed by operation, and a reopened store on the same registry adds to
// the first one's series.
func RunMetrics(t *testing.T, backend string, open MetricsOpener) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	ctx := t.Context()
	// Two stores on one registry (a reopen): the second shares the first's series.
	for i := range 2 {
		s := open(t, reg)
		_ = s.CreateAgent(ctx, store.AgentRecord{Name: "a", Pool: "p", State: store.StateLaunching}) // ok, then conflict
		_, _ = s.GetAgent(ctx, "missing")
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
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
		c, _, err := OpCount(reg, backend, tc.op, tc.result)
		if err != nil {
			t.Fatal(err)
		}
		if c != tc.want {
			t.Errorf("adofleet_store_operations_total{backend=%q,operation=%q,result=%q}: got %v, want %v", backend, tc.op, tc.result, c, tc.want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "adofleet_store_operation_duration_seconds"); err != nil || n != 2 {
		t.Errorf("duration series: got %d, %v; want 2 (create_agent, get_agent)", n, err)
	}
}

// OpCount reads the series of adofleet_store_operations_total with the labels backend, op and
// result from g; found is false, and the count 0, when there is no such series.
func OpCount(g prometheus.Gatherer, backend, op, result string) (count float64, found bool, err error) {
	mfs, err := g.Gather()
	if err != nil {
		return 0, false, err
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
			if labels["operation"] == op && labels["result"] == result && labels["backend"] == backend {
				return m.GetCounter().GetValue(), true, nil
			}
		}
	}
	return 0, false, nil
}
