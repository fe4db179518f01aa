package notify

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// Delivery outcomes, the outcome label of adofleet_notify_deliveries_total.
const (
	outcomeDelivered   = "delivered"
	outcomeRetry       = "retry"        // failed, will be tried again
	outcomeDead        = "dead"         // failed for good
	outcomeRateLimited = "rate_limited" // held back by the route's own rate limit
)

// metrics are labelled by route name only, never by anything derived from a URL.
type metrics struct {
	enqueued   *prometheus.CounterVec   // route, result
	deliveries *prometheus.CounterVec   // route, outcome
	failed     *prometheus.CounterVec   // route
	depth      *prometheus.GaugeVec     // state
	send       *prometheus.HistogramVec // route
	latency    *prometheus.HistogramVec // route
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		enqueued: promreg.MustRegister(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "notify", Name: "enqueued_total",
			Help: "Events rendered for a route, by result: enqueued, deduplicated (an identical alert within the dedup window) or error.",
		}, []string{"route", "result"})),
		deliveries: promreg.MustRegister(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "notify", Name: "deliveries_total",
			Help: "Delivery attempts by route and outcome: delivered, retry, dead, rate_limited.",
		}, []string{"route", "outcome"})),
		failed: promreg.MustRegister(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "notify", Name: "failed_deliveries_total",
			Help: "Notifications given up on (a permanent error or too many attempts); alert on its increase.",
		}, []string{"route"})),
		depth: promreg.MustRegister(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "adofleet", Subsystem: "notify", Name: "outbox_messages",
			Help: "Messages in the notification outbox by state (pending, delivered, dead).",
		}, []string{"state"})),
		send: promreg.MustRegister(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "adofleet", Subsystem: "notify", Name: "send_duration_seconds",
			Help:    "Duration of one webhook request, by route.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"route"})),
		latency: promreg.MustRegister(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "adofleet", Subsystem: "notify", Name: "delivery_latency_seconds",
			Help:    "Time from enqueueing a notification to its delivery, retries included, by route.",
			Buckets: []float64{0.5, 1, 5, 15, 60, 300, 900, 3600},
		}, []string{"route"})),
	}
}
