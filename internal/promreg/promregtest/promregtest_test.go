package promregtest_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg/promregtest"
)

func TestFindAndValue(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jobs_total"}, []string{"pool", "outcome"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"})
	reg.MustRegister(c, g)
	c.WithLabelValues("a", "ok").Add(2)
	c.WithLabelValues("a", "error").Inc()
	c.WithLabelValues("b", "ok").Add(5)
	g.Set(7)

	tests := []struct {
		name   string
		labels []string
		want   float64
		found  bool
	}{
		{"jobs_total", []string{"pool", "a", "outcome", "error"}, 1, true},
		{"jobs_total", []string{"pool", "b"}, 5, true},
		{"jobs_total", []string{"pool", "c"}, 0, false},
		{"jobs_total", []string{"missing", "x"}, 0, false},
		{"depth", nil, 7, true},
		{"absent", nil, 0, false},
	}
	for _, tt := range tests {
		got, found := promregtest.Value(t, reg, tt.name, tt.labels...)
		if got != tt.want || found != tt.found {
			t.Errorf("Value(%s, %q) = %v, %v; want %v, %v", tt.name, tt.labels, got, found, tt.want, tt.found)
		}
	}
	if got, _ := promregtest.Value(t, reg, "jobs_total", promregtest.Pairs(map[string]string{"pool": "a", "outcome": "ok"})...); got != 2 {
		t.Errorf("Value with Pairs = %v, want 2", got)
	}
}
