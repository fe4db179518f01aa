// Package fleet feeds the dashboard: it implements web.StatusSource and web.HistorySource over
// the controller, the state store and a history.Recorder that it fills by sampling the
// controller's counts every few seconds. It is the only place that knows both the controller's
// and the dashboard's types, so internal/web imports nothing else of adofleet.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/history"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/web"
)

// Defaults of Options.
const (
	DefaultSampleEvery = 10 * time.Second
	DefaultCurrency    = "USD"
)

// Controller is what Source reads of the controller (*controller.Controller).
type Controller interface {
	Status(ctx context.Context) (controller.Status, error)
}

// Store is what Source reads of the state store (any store.Store).
type Store interface {
	ListAgents(ctx context.Context, pool string, states ...store.AgentState) ([]store.AgentRecord, error)
	ListDecisions(ctx context.Context, pool string, limit int) ([]store.Decision, error)
	PendingCheckRequests(ctx context.Context, pool string) ([]store.CheckRequest, error)
}

// Options configures a Source.
type Options struct {
	Controller Controller // required
	Store      Store      // required
	// Prices is each pool's cost of one agent for one hour; a pool not in it has no cost shown.
	Prices map[string]float64
	// Currency labels the costs (default USD when any pool has a price).
	Currency string
	// History keeps the samples; nil means a new recorder with the defaults (24 h at 1 minute).
	History *history.Recorder
	// SampleEvery is Run's sampling interval (default 10s).
	SampleEvery time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Source is safe for concurrent use.
type Source struct {
	opts Options
	rec  *history.Recorder
	log  *slog.Logger

	mu      sync.Mutex
	pools   []poolInfo        // config order, from the last controller status
	lastErr map[string]string // each pool's last cycle error, to report each new one once
	errs    []web.Failure     // cycle errors seen, oldest first, at most web.MaxFailures
}

type poolInfo struct {
	name string
	max  int
}

// New checks opts and applies the defaults.
func New(opts Options) (*Source, error) {
	if opts.Controller == nil {
		return nil, errors.New("fleet.New: Options.Controller is nil")
	}
	if opts.Store == nil {
		return nil, errors.New("fleet.New: Options.Store is nil")
	}
	for pool, p := range opts.Prices {
		if p < 0 {
			return nil, fmt.Errorf("fleet.New: Options.Prices[%q]: must not be negative, got %v", pool, p)
		}
	}
	if opts.History == nil {
		opts.History = history.New(history.Options{})
	}
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = DefaultSampleEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Currency == "" {
		opts.Currency = DefaultCurrency
	}
	return &Source{
		opts: opts, rec: opts.History, log: opts.Logger.With("component", "dashboard"),
		lastErr: map[string]string{},
	}, nil
}

// Run samples the controller every SampleEvery until ctx ends. A failed sample is logged and the
// next one tried; Run returns nil when ctx ends.
func (s *Source) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.SampleEvery)
	defer t.Stop()
	for {
		if err := s.Sample(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sampling the pools for the dashboard failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sample records every pool's counts from the controller's last reconcile, now.
func (s *Source) Sample(ctx context.Context) error {
	cs, err := s.opts.Controller.Status(ctx)
	if err != nil && len(cs.Pools) == 0 {
		return fmt.Errorf("controller status: %w", err)
	}
	// The pools' counts do not depend on the store: a failed decision listing loses nothing here.
	now := s.opts.Now()
	for _, p := range cs.Pools {
		a := p.Agents
		s.rec.Record(p.Name, now, history.Sample{
			Queued: p.QueuedJobs, Running: p.RunningJobs,
			Starting: a.Starting, Idle: a.Idle, Busy: a.Busy, Draining: a.Draining, Offline: a.Offline,
		})
	}
	s.notePools(cs.Pools, now)
	return nil
}

// notePools remembers the pools' order and caps, and each new cycle error.
func (s *Source) notePools(pools []controller.PoolStatus, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pools = s.pools[:0]
	for _, p := range pools {
		s.pools = append(s.pools, poolInfo{name: p.Name, max: p.Max})
		if p.LastError == s.lastErr[p.Name] {
			continue
		}
		s.lastErr[p.Name] = p.LastError
		if p.LastError == "" {
			continue
		}
		at := p.LastReconcile
		if at.IsZero() {
			at = now
		}
		s.errs = append(s.errs, web.Failure{Time: at, Pool: p.Name, Kind: KindCycleError, Message: p.LastError})
		if over := len(s.errs) - web.MaxFailures; over > 0 {
			s.errs = append(s.errs[:0], s.errs[over:]...)
		}
	}
}

func (s *Source) cycleErrors() []web.Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]web.Failure(nil), s.errs...)
}

// History returns each pool's series over the last window, at most maxPoints points each.
func (s *Source) History(_ context.Context, window time.Duration) (web.History, error) {
	if window <= 0 {
		return web.History{}, fmt.Errorf("history window: must be positive, got %s", window)
	}
	now := s.opts.Now().UTC()
	res := s.rec.Resolution()
	step := max((window/maxPoints+res-1)/res*res, res) // whole buckets, as Series merges them
	h := web.History{Start: now.Add(-window), End: now, StepSeconds: step.Seconds()}
	s.mu.Lock()
	pools := append([]poolInfo(nil), s.pools...)
	s.mu.Unlock()
	for _, p := range pools {
		ph := web.PoolHistory{Pool: p.name, Max: p.max, Points: []web.Point{}}
		for _, pt := range s.rec.Series(p.name, h.Start, now.Add(time.Nanosecond), step) {
			ph.Points = append(ph.Points, web.Point{
				Time: pt.Time, Queued: pt.Peak.Queued, Starting: pt.Peak.Starting, Idle: pt.Peak.Idle, Busy: pt.Peak.Busy,
			})
		}
		h.Pools = append(h.Pools, ph)
	}
	return h, nil
}

// maxPoints bounds a chart's points per series, so a 24 h window is not 1440 of them.
const maxPoints = 240
