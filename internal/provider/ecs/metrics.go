package ecs

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/promreg"
)

// Label values of adofleet_ecs_tasks_stopped_total{reason_class}: a small fixed set, so the raw
// stop reason (which holds image names and IDs) goes to the log, never to a label.
const (
	ReasonUserInitiated = "user_initiated"  // StopTask (ours or anyone's)
	ReasonExited        = "exited"          // the agent ran and exited 0
	ReasonExitError     = "exit_error"      // the agent exited non-zero
	ReasonCannotPull    = "cannot_pull"     // CannotPullContainerError
	ReasonResourceInit  = "resource_init"   // ResourceInitializationError (secrets, ENI, logs)
	ReasonFailedToStart = "failed_to_start" // any other TaskFailedToStart
	ReasonSpotInterrupt = "spot_interruption"
	ReasonOther         = "other"
)

type metrics struct {
	stopped *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		stopped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "adofleet",
			Subsystem: "ecs",
			Name:      "tasks_stopped_total",
			Help:      "ECS tasks of adofleet seen stopped, by pool and class of stop reason.",
		}, []string{"pool", "reason_class"}),
	}
	// A second provider on the same registry shares the first one's counter; a clash of shapes
	// leaves this one unregistered, as before.
	if stopped, err := promreg.Register(reg, m.stopped); err == nil {
		m.stopped = stopped
	}
	return m
}
