package leader

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// Metrics are an elector's series, shared by every backend (the store elector, kubelease), so a
// dashboard and an alert on a replica that never leads read any of them.
type Metrics struct {
	isLeader    *prometheus.GaugeVec
	transitions *prometheus.CounterVec
	lease       string
}

// NewMetrics registers the elector series on reg (nil: unregistered) for lease. A second
// elector on the same registry shares the series.
func NewMetrics(reg prometheus.Registerer, lease string) *Metrics {
	m := &Metrics{
		isLeader: promreg.MustRegister(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "adofleet", Subsystem: "leader", Name: "is_leader",
			Help: "1 while this replica holds the leader lease and runs the controller loops, else 0.",
		}, []string{"lease"})),
		transitions: promreg.MustRegister(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "leader", Name: "transitions_total",
			Help: "Changes of this replica's leadership, by the state entered (leader, follower).",
		}, []string{"lease", "to"})),
		lease: lease,
	}
	m.isLeader.WithLabelValues(lease).Set(0)
	return m
}

// SetLeader records that this replica became leader (true) or stopped leading (false).
func (m *Metrics) SetLeader(leading bool) {
	to, v := "follower", 0.0
	if leading {
		to, v = "leader", 1
	}
	m.isLeader.WithLabelValues(m.lease).Set(v)
	m.transitions.WithLabelValues(m.lease, to).Inc()
}
