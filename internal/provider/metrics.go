package provider

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
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
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	m.launched = register(reg, m.launched)
	return m
}

// register registers c, or returns the identical collector already registered by an earlier
// Instrument call on the same registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	// Only a programming error (a clashing metric of another shape) gets here.
	panic(err)
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
