package cloudwatch_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// counter reads the counter name{labels} from reg.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func published(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return counter(t, reg, "adofleet_cloudwatch_datapoints_published_total", nil)
}

func errCount(t *testing.T, reg *prometheus.Registry, stage string) float64 {
	t.Helper()
	return counter(t, reg, "adofleet_cloudwatch_publish_errors_total", map[string]string{"stage": stage})
}
