package vmresource

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

type metrics struct {
	events          *prometheus.CounterVec // type, outcome
	deregistrations *prometheus.CounterVec // outcome
	removals        prometheus.Counter
	missing         *prometheus.GaugeVec // environment
	deadLettered    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var m metrics
	var err error
	if m.events, err = promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Subsystem: "vmresource", Name: "events_total",
		Help: "Auto Scaling lifecycle events, by type (launch, terminate, test, other) and outcome (handled, ignored, poison, error).",
	}, []string{"type", "outcome"})); err != nil {
		return nil, err
	}
	if m.deregistrations, err = promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Subsystem: "vmresource", Name: "deregistrations_total",
		Help: "VM resources removed from their Environment with their hidden agent, by outcome (removed, already_gone, failed, dry_run).",
	}, []string{"outcome"})); err != nil {
		return nil, err
	}
	if m.removals, err = promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "adofleet", Subsystem: "vmresource", Name: "reconcile_removals_total",
		Help: "VM resources and hidden agents Reconcile removed because their instance no longer exists.",
	})); err != nil {
		return nil, err
	}
	if m.missing, err = promreg.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "adofleet", Subsystem: "vmresource", Name: "missing_instances",
		Help: "Running instances of configured groups missing from their Environment at the last reconcile.",
	}, []string{"project", "environment"})); err != nil {
		return nil, err
	}
	if m.deadLettered, err = promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "adofleet", Subsystem: "vmresource", Name: "dead_lettered_total",
		Help: "Queue messages sent to the dead-letter queue, by reason (poison, max_receives).",
	}, []string{"reason"})); err != nil {
		return nil, err
	}
	return &m, nil
}
