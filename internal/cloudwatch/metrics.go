package cloudwatch

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of adofleet_cloudwatch_publish_errors_total{stage}.
const (
	StageSnapshot = "snapshot" // reading the gauges failed
	StagePut      = "put"      // a PutMetricData call failed
)

type metrics struct {
	errors     *prometheus.CounterVec
	datapoints prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Subsystem: "cloudwatch",
			Name:      "publish_errors_total",
			Help:      "Failed CloudWatch publications, by stage (snapshot: reading the gauges; put: a PutMetricData call).",
		}, []string{"stage"}),
		datapoints: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "adofleet",
			Subsystem: "cloudwatch",
			Name:      "datapoints_published_total",
			Help:      "Metric data points CloudWatch accepted.",
		}),
	}
	for _, s := range []string{StageSnapshot, StagePut} {
		m.errors.WithLabelValues(s) // export zeros, so alerts on rate() see the series
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.errors, m.datapoints} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register cloudwatch metrics: %w", err)
		}
	}
	return m, nil
}
