package dynamodb

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
	"github.com/adofleet/adofleet/internal/store"
)

// metrics count store calls by operation and result, and time them (SDK retries included), so
// throttling or a slow endpoint shows up before the controller's cycles do. They share the
// sqlite store's series names; the backend label tells them apart.
type metrics struct {
	ops      *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"backend": "dynamodb"}
	m := &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "store", Name: "operations_total",
			Help:        "State store calls by operation and result (ok, not_found, conflict, canceled, error).",
			ConstLabels: labels,
		}, []string{"operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "adofleet", Subsystem: "store", Name: "operation_duration_seconds",
			Help:        "State store call latency by operation.",
			ConstLabels: labels,
			Buckets:     []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"operation"}),
	}
	var err error
	if m.ops, err = promreg.Register(reg, m.ops); err != nil {
		return nil, err
	}
	if m.duration, err = promreg.Register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// observe records one call; errp points at the call's named error result.
func (m *metrics) observe(op string, start time.Time, errp *error) {
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	m.ops.WithLabelValues(op, result(*errp)).Inc()
}

func result(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}
