// Package housekeep is the leader's periodic clean-up of the stores that keep every row until
// told otherwise (sqlite, postgres): old decisions, done check requests and their callback
// claims, expired VM records and delivered or dead notifications. Without it a controller's
// database grows with every job it ever served. DynamoDB's TTL does the same for that store, so
// a store without the Prune methods gets no housekeeper. Gone agents' records are deleted by the
// controller's own cycle (internal/controller, settle.go), which knows when ADO forgot the agent.
package housekeep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Pruner is what a store must offer to be cleaned (internal/store/sqlite, internal/store/postgres).
type Pruner interface {
	PruneDecisions(ctx context.Context, keep int) (int, error)
	PruneVMs(ctx context.Context, now time.Time) (int, error)
	PruneMessages(ctx context.Context, now time.Time) (int, error)
	PruneChecks(ctx context.Context, before time.Time) (int, error)
}

// Defaults of Options.
const (
	DefaultInterval         = time.Hour
	DefaultFirstDelay       = time.Minute
	DefaultDecisionsPerPool = 10_000
	DefaultCheckRetention   = 35 * 24 * time.Hour
	// DefaultPassTimeout bounds one pass: a DELETE over a large backlog must not hold the
	// leader's loop for ever.
	DefaultPassTimeout = 5 * time.Minute
)

// Options configure a Housekeeper; zero values take the defaults above.
type Options struct {
	Interval         time.Duration // between passes
	FirstDelay       time.Duration // from Run to the first pass: not in the way of a new leader's first cycles
	DecisionsPerPool int           // newest decisions kept per pool
	CheckRetention   time.Duration // done check requests and claims kept this long
	PassTimeout      time.Duration
	Now              func() time.Time
	Logger           *slog.Logger
	Registerer       prometheus.Registerer
}

// Housekeeper prunes one store.
type Housekeeper struct {
	st   Pruner
	opts Options
	log  *slog.Logger
	m    *metrics
}

// New returns the housekeeper of st, or nil (with no error) when st has no Prune methods.
func New(st any, opts Options) (*Housekeeper, error) {
	p, ok := st.(Pruner)
	if !ok {
		return nil, nil
	}
	if opts.Interval < 0 || opts.FirstDelay < 0 || opts.DecisionsPerPool < 0 || opts.CheckRetention < 0 || opts.PassTimeout < 0 {
		return nil, fmt.Errorf("housekeep: options must not be negative: %+v", opts)
	}
	opts.Interval = orDefault(opts.Interval, DefaultInterval)
	opts.FirstDelay = orDefault(opts.FirstDelay, DefaultFirstDelay)
	opts.DecisionsPerPool = orDefault(opts.DecisionsPerPool, DefaultDecisionsPerPool)
	opts.CheckRetention = orDefault(opts.CheckRetention, DefaultCheckRetention)
	opts.PassTimeout = orDefault(opts.PassTimeout, DefaultPassTimeout)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Housekeeper{st: p, opts: opts, log: log.With("component", "housekeep"), m: m}, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Run prunes after FirstDelay and then every Interval until ctx ends. A failed pass is logged
// and counted, and the next one tries again: nothing it deletes is needed by anyone.
func (h *Housekeeper) Run(ctx context.Context) error {
	t := time.NewTimer(h.opts.FirstDelay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		_ = h.Pass(ctx)
		t.Reset(h.opts.Interval)
	}
}

// Pass runs one clean-up of every kind and returns the errors joined. Each kind runs even when
// an earlier one failed.
func (h *Housekeeper) Pass(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.PassTimeout)
	defer cancel()
	now := h.opts.Now()
	var errs []error
	for _, k := range []struct {
		kind string
		run  func() (int, error)
	}{
		{"decisions", func() (int, error) { return h.st.PruneDecisions(ctx, h.opts.DecisionsPerPool) }},
		{"checks", func() (int, error) { return h.st.PruneChecks(ctx, now.Add(-h.opts.CheckRetention)) }},
		{"vms", func() (int, error) { return h.st.PruneVMs(ctx, now) }},
		{"messages", func() (int, error) { return h.st.PruneMessages(ctx, now) }},
	} {
		n, err := k.run()
		h.m.deleted.WithLabelValues(k.kind).Add(float64(n))
		if err != nil {
			h.m.failures.WithLabelValues(k.kind).Inc()
			h.log.Warn("housekeeping failed; the next pass tries again", "kind", k.kind, "err", err)
			errs = append(errs, fmt.Errorf("prune %s: %w", k.kind, err))
			continue
		}
		if n > 0 {
			h.log.Info("housekeeping deleted old rows", "kind", k.kind, "rows", n)
		}
	}
	if len(errs) == 0 {
		h.m.lastSuccess.Set(float64(now.Unix()))
	}
	return errors.Join(errs...)
}
