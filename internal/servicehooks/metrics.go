package servicehooks

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

type metrics struct {
	requests *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Subsystem: "servicehooks",
			Name:      "requests_total",
			Help:      "ADO service hook deliveries by event type and outcome (published, ignored, bad_request, unauthorized, too_large, publish_error).",
		}, []string{"event", "outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.requests, err = promreg.Register(reg, m.requests)
	return m, err
}

// eventLabel bounds the event label to the known types: the type comes from the caller.
func eventLabel(t string) string {
	switch t {
	case EventRunStateChanged, EventStageStateChanged, EventJobStateChanged, EventBuildComplete:
		return t
	case "":
		return "none"
	}
	return "other"
}
