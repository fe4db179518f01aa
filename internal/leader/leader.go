// Package leader elects one active controller among replicas. Backends: the state store's own lease
// (store.Leases: SQLite, Postgres or DynamoDB, with fencing tokens on every write) and, inside a
// Kubernetes cluster, a coordination.k8s.io Lease (sub-package kubelease).
package leader

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Elector campaigns for leadership of one lease.
type Elector interface {
	// Run campaigns until ctx ends. Each time this process wins, it calls lead with a context that
	// is cancelled as soon as leadership is lost or can no longer be proven (no successful renewal
	// within RenewDeadline); for the store backend that context also carries the store fence
	// (store.WithFence). Run waits for lead to return before campaigning again, and returns nil
	// when ctx ends, after releasing a lease it holds so a successor need not wait.
	Run(ctx context.Context, lead func(ctx context.Context)) error
	// IsLeader reports whether this process leads now (for /readyz, the dashboard and metrics).
	IsLeader() bool
}

// Options configure an Elector; zero durations take the defaults below.
type Options struct {
	Name          string        // lease name; default "adofleet-controller"
	Identity      string        // this replica's identity; default hostname + random suffix
	LeaseDuration time.Duration // how long a lease lasts without renewal; default 15s
	RenewDeadline time.Duration // leader gives up if it cannot renew within this; default 10s
	RetryPeriod   time.Duration // between acquire/renew attempts; default 2s
	Now           func() time.Time
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
}
