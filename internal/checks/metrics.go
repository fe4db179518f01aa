package checks

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

type metrics struct {
	requests *prometheus.CounterVec // handler
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	c, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Subsystem: "checks", Name: "requests_total",
		Help: "Check calls received, by pool and outcome (accepted, duplicate, bad_request, unauthorized, unknown_pool, too_large, error).",
	}, []string{"pool", "outcome"}))
	if err != nil {
		return nil, err
	}
	return &metrics{requests: c}, nil
}

type callbackMetrics struct {
	callbacks *prometheus.CounterVec
	wait      *prometheus.HistogramVec
}

func newCallbackMetrics(reg prometheus.Registerer) (*callbackMetrics, error) {
	c, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Subsystem: "checks", Name: "callbacks_total",
		Help: "Check callbacks, by pool, result (succeeded, failed) and outcome (sent, send_error, claimed_before).",
	}, []string{"pool", "result", "outcome"}))
	if err != nil {
		return nil, err
	}
	w, err := promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "adofleet", Subsystem: "checks", Name: "wait_seconds",
		Help:    "Time from the check call to its callback, by pool and result.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600},
	}, []string{"pool", "result"}))
	if err != nil {
		return nil, err
	}
	return &callbackMetrics{callbacks: c, wait: w}, nil
}
