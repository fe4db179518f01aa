package provider_test

import (
	"maps"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// labels is a metric's full label set.
type labels map[string]string

// metricsReader finds samples of a gathered registry by their exact label set.
type metricsReader map[string]*dto.MetricFamily

func newMetricsReader(t *testing.T, g prometheus.Gatherer) metricsReader {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	r := metricsReader{}
	for _, mf := range mfs {
		r[mf.GetName()] = mf
	}
	return r
}

func (r metricsReader) find(name string, want labels) *dto.Metric {
	for _, m := range r[name].GetMetric() {
		got := labels{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if maps.Equal(got, want) {
			return m
		}
	}
	return nil
}

// counter returns the counter's value, 0 if the series does not exist.
func (r metricsReader) counter(name string, l labels) float64 {
	return r.find(name, l).GetCounter().GetValue()
}

// histogramCount returns the number of observations, 0 if the series does not exist.
func (r metricsReader) histogramCount(name string, l labels) uint64 {
	return r.find(name, l).GetHistogram().GetSampleCount()
}

func requests(p, op, outcome string) labels {
	return labels{"provider": p, "operation": op, "outcome": outcome}
}
