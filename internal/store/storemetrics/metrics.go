// Package storemetrics counts a state store's calls by operation and result, and times them.
// Every backend registers the same series (adofleet_store_operations_total and
// adofleet_store_operation_duration_seconds), told apart by the constant backend label, so a
// dashboard reads any one of them.
package storemetrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
	"github.com/adofleet/adofleet/internal/store"
)

// Metrics are one backend's store call metrics.
type Metrics struct {
	ops      *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New makes the metrics of backend (sqlite, postgres, dynamodb) and registers them on reg; a nil
// reg leaves them unregistered. A second store of the same backend on the same registry (a
// reopen) shares the series the first registered.
func New(reg prometheus.Registerer, backend string) (*Metrics, error) {
	labels := prometheus.Labels{"backend": backend}
	m := &Metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet", Subsystem: "store", Name: "operations_total",
			Help:        "State store calls by operation and result (ok, not_found, conflict, fenced, canceled, error).",
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

// Observe records one call of op that started at start; errp points at the call's named error
// result, so a deferred Observe sees the error the call returns.
func (m *Metrics) Observe(op string, start time.Time, errp *error) {
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	m.ops.WithLabelValues(op, result(*errp)).Inc()
}

// result is the result label of a call that returned err.
func result(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrFenced):
		return "fenced"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}
