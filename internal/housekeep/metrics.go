package housekeep

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

type metrics struct {
	deleted     *prometheus.CounterVec
	failures    *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	deleted, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Name: "housekeeping_deleted_rows_total",
		Help: "Rows the store housekeeping deleted, by kind (decisions, checks, vms, messages).",
	}, []string{"kind"}))
	if err != nil {
		return nil, err
	}
	failures, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Name: "housekeeping_failures_total",
		Help: "Housekeeping deletions that failed, by kind; the next pass tries again.",
	}, []string{"kind"}))
	if err != nil {
		return nil, err
	}
	last, err := promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "adofleet", Name: "housekeeping_last_success_timestamp_seconds",
		Help: "When the last housekeeping pass with no failure ran (Unix seconds).",
	}))
	if err != nil {
		return nil, err
	}
	return &metrics{deleted: deleted, failures: failures, lastSuccess: last}, nil
}
