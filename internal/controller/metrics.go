package controller

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// Outcome label values of adofleet_reconcile_total.
const (
	outcomeOK    = "ok"
	outcomeError = "error"
)

type metrics struct {
	reconciles *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	jobs       *prometheus.GaugeVec
	agents     *prometheus.GaugeVec
	decisions  *prometheus.CounterVec
	adoCalls   *prometheus.GaugeVec
	// publishFailures counts events Options.Events did not accept.
	publishFailures *prometheus.CounterVec
	// inFlight and waiting count the cycles holding and waiting for a slot.
	inFlight, waiting prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Name:      "reconcile_total",
			Help:      "Reconcile cycles by pool and outcome (ok, error).",
		}, []string{"pool", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "adofleet",
			Name:      "reconcile_duration_seconds",
			Help:      "Duration of one reconcile cycle by pool.",
			Buckets:   []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"pool"}),
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "adofleet",
			Name:      "pool_jobs",
			Help:      "Unfinished job requests in the pool at the last reconcile, by state (queued, running).",
		}, []string{"pool", "state"}),
		agents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "adofleet",
			Name:      "pool_agents",
			Help:      "Agents at the last reconcile by state (starting, idle, busy, draining, offline).",
		}, []string{"pool", "state"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Name:      "decisions_total",
			Help:      "Actions the controller took, by pool and action.",
		}, []string{"pool", "action"}),
		adoCalls: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "adofleet",
			Name:      "ado_calls_per_reconcile",
			Help:      "ADO REST calls made by the last reconcile cycle of the pool.",
		}, []string{"pool"}),
		publishFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Name:      "controller_event_publish_failures_total",
			Help:      "Events the controller could not hand to the notification outbox, by pool and event type.",
		}, []string{"pool", "event"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "adofleet",
			Name:      "reconcile_in_flight",
			Help:      "Reconcile cycles running now, across all pools (at most controller.maxConcurrentCycles).",
		}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "adofleet",
			Name:      "reconcile_waiting",
			Help:      "Reconcile cycles waiting for a free slot because controller.maxConcurrentCycles are running.",
		}),
	}
	if reg == nil {
		return m
	}
	m.reconciles = promreg.MustRegister(reg, m.reconciles)
	m.duration = promreg.MustRegister(reg, m.duration)
	m.jobs = promreg.MustRegister(reg, m.jobs)
	m.agents = promreg.MustRegister(reg, m.agents)
	m.decisions = promreg.MustRegister(reg, m.decisions)
	m.adoCalls = promreg.MustRegister(reg, m.adoCalls)
	m.publishFailures = promreg.MustRegister(reg, m.publishFailures)
	m.inFlight = promreg.MustRegister(reg, m.inFlight)
	m.waiting = promreg.MustRegister(reg, m.waiting)
	return m
}

func (m *metrics) observeCounts(pool string, c Counts) {
	m.jobs.WithLabelValues(pool, "queued").Set(float64(c.QueuedJobs))
	m.jobs.WithLabelValues(pool, "running").Set(float64(c.RunningJobs))
	m.agents.WithLabelValues(pool, "starting").Set(float64(c.Agents.Starting))
	m.agents.WithLabelValues(pool, "idle").Set(float64(c.Agents.Idle))
	m.agents.WithLabelValues(pool, "busy").Set(float64(c.Agents.Busy))
	m.agents.WithLabelValues(pool, "draining").Set(float64(c.Agents.Draining))
	m.agents.WithLabelValues(pool, "offline").Set(float64(c.Agents.Offline))
}
