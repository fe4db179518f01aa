package provider

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// Label values of adofleet_provider_requests_total{outcome}.
const (
	OutcomeOK                   = "ok"
	OutcomeError                = "error"
	OutcomePartial              = "partial"
	OutcomeNotFound             = "not_found"
	OutcomeInsufficientCapacity = "insufficient_capacity"
)

// Label values of the operation label.
const (
	OpLaunch    = "launch"
	OpTerminate = "terminate"
	OpList      = "list"
)

// metrics are shared by every instrumented provider on one registry: the provider label tells them
// apart, so Instrument may be called once per provider with the same Registerer.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	launched *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Subsystem: "provider",
			Name:      "requests_total",
			Help:      "Provider calls by provider, operation and outcome.",
		}, []string{"provider", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "adofleet",
			Subsystem: "provider",
			Name:      "request_duration_seconds",
			Help:      "Latency of provider calls by provider and operation.",
			// Cloud launches take seconds; local ones milliseconds.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"provider", "operation"}),
		launched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Subsystem: "provider",
			Name:      "instances_launched_total",
			Help:      "Instances providers reported as started, by provider and pool.",
		}, []string{"provider", "pool"}),
	}
	if reg == nil {
		return m
	}
	m.requests = promreg.MustRegister(reg, m.requests)
	m.duration = promreg.MustRegister(reg, m.duration)
	m.launched = promreg.MustRegister(reg, m.launched)
	return m
}

// outcome classifies err for the outcome label. A partial launch is checked first: PartialError
// unwraps to its causes, which may themselves be typed errors.
func outcome(err error) string {
	var partial *PartialError
	switch {
	case err == nil:
		return OutcomeOK
	case errors.As(err, &partial):
		return OutcomePartial
	case errors.Is(err, ErrInsufficientCapacity):
		return OutcomeInsufficientCapacity
	case errors.Is(err, ErrNotFound):
		return OutcomeNotFound
	default:
		return OutcomeError
	}
}
