package webhookauth

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// Reasons a Guard refuses a request, as labelled in adofleet_http_refused_total.
const (
	ReasonAddress     = "address"     // not on the endpoint's allow-list: 403
	ReasonCredentials = "credentials" // no or wrong credentials: 401
)

// Metrics counts the requests Guards refuse; one set serves every endpoint (label endpoint).
type Metrics struct {
	refused *prometheus.CounterVec
}

// NewMetrics registers the metrics on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	refused, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Subsystem: "http", Name: "refused_total",
		Help: "Requests refused before reaching their handler, by endpoint and reason (address: not on the allow-list; credentials: missing or wrong).",
	}, []string{"endpoint", "reason"}))
	if err != nil {
		return nil, err
	}
	return &Metrics{refused: refused}, nil
}

func (m *Metrics) refuse(endpoint, reason string) {
	if m != nil {
		m.refused.WithLabelValues(endpoint, reason).Inc()
	}
}

// Refused is the counter of one endpoint's refusals for reason, for tests and callers that
// report it.
func (m *Metrics) Refused(endpoint, reason string) prometheus.Counter {
	return m.refused.WithLabelValues(endpoint, reason)
}
