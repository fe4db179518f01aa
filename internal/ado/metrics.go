package ado

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// metrics are the client's Prometheus series. Labels are call names ("ListAgents") and status
// codes only: never a URL, a pool name or anything derived from a credential.
type metrics struct {
	requests *prometheus.CounterVec   // one per HTTP attempt
	duration *prometheus.HistogramVec // per attempt, including the body read
	retries  *prometheus.CounterVec   // one per retry, by reason
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "ado", Name: "requests_total",
			Help: "HTTP requests made to Azure DevOps, by call and status code (\"error\" when no response came back).",
		}, []string{"call", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "adofleet", Subsystem: "ado", Name: "request_duration_seconds",
			Help:    "Duration of one HTTP attempt to Azure DevOps, by call.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"call"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "ado", Name: "retries_total",
			Help: "Retries of Azure DevOps calls, by call and reason (throttled, server_error, transport).",
		}, []string{"call", "reason"}),
	}
	if reg == nil {
		return m, nil
	}
	// A second client on the same registry shares the series already registered.
	var err error
	if m.requests, err = promreg.Register(reg, m.requests); err != nil {
		return nil, fmt.Errorf("ado: %w", err)
	}
	if m.duration, err = promreg.Register(reg, m.duration); err != nil {
		return nil, fmt.Errorf("ado: %w", err)
	}
	if m.retries, err = promreg.Register(reg, m.retries); err != nil {
		return nil, fmt.Errorf("ado: %w", err)
	}
	return m, nil
}
