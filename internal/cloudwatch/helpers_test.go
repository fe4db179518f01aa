package cloudwatch_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/promreg/promregtest"
	"github.com/prometheus/client_golang/prometheus"
)

// counter reads the counter name{labels} from reg; a missing series fails the test.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := promregtest.Value(t, reg, name, promregtest.Pairs(labels)...)
	if !ok {
		t.Fatalf("metric %s%v not found", name, labels)
	}
	return v
}

func published(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return counter(t, reg, "adofleet_cloudwatch_datapoints_published_total", nil)
}

func errCount(t *testing.T, reg *prometheus.Registry, stage string) float64 {
	t.Helper()
	return counter(t, reg, "adofleet_cloudwatch_publish_errors_total", map[string]string{"stage": stage})
}
