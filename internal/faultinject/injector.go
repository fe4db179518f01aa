package faultinject

import (
	"errors"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// ErrInjected is wrapped by every error an injected fault returns, so a test can tell its own
// faults from real failures with errors.Is.
var ErrInjected = errors.New("injected fault")

// Names of the faults in Counts.
const (
	FaultADOThrottle     = "ado_429"
	FaultADOServerError  = "ado_5xx"
	FaultADOTimeout      = "ado_timeout"
	FaultADOSlow         = "ado_slow"
	FaultADOLost         = "ado_response_lost"
	FaultLaunchBefore    = "launch_fail_before"
	FaultLaunchPartial   = "launch_fail_partial"
	FaultLaunchAfter     = "launch_fail_after"
	FaultLaunchLate      = "launch_late"
	FaultInstanceLoss    = "instance_lost"
	FaultTerminateBefore = "terminate_fail_before"
	FaultTerminateAfter  = "terminate_fail_after"
	FaultStoreBefore     = "store_fail_before"
	FaultStoreAfter      = "store_fail_after"
	FaultLeaseBefore     = "lease_fail_before"
	FaultLeaseAfter      = "lease_fail_after"
)

// Streams of draws, one per kind of fault, so each kind's faults depend only on the seed and on
// the calls of that kind.
const (
	streamADO uint64 = iota + 1
	streamTransport
	streamProvider
	streamStore
	streamLease
)

// Injector holds the seed, the rates and the counts of injected faults. Its methods return the
// fault sources; all of them share its counts and its on/off switch.
type Injector struct {
	seed  int64
	rates Rates
	off   atomic.Bool

	mu     sync.Mutex
	counts map[string]int64
}

// New returns an injector for seed and r (zero durations get their defaults). r is not
// validated here; ParseRates and Rates.Validate do that.
func New(seed int64, r Rates) *Injector {
	return &Injector{seed: seed, rates: r.WithDefaults(), counts: map[string]int64{}}
}

// Seed returns the injector's seed.
func (in *Injector) Seed() int64 { return in.seed }

// Rates returns the injector's rates.
func (in *Injector) Rates() Rates { return in.rates }

// SetEnabled turns every fault source of the injector on or off (on after New). A test turns the
// faults off to check that the system recovers.
func (in *Injector) SetEnabled(on bool) { in.off.Store(!on) }

// Enabled reports whether faults are being injected.
func (in *Injector) Enabled() bool { return !in.off.Load() }

// Counts returns how many faults of each kind (the Fault* names) were injected so far.
func (in *Injector) Counts() map[string]int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.counts)
}

// Total is the number of faults injected so far.
func (in *Injector) Total() int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	var n int64
	for _, c := range in.counts {
		n += c
	}
	return n
}

func (in *Injector) count(name string) {
	in.mu.Lock()
	in.counts[name]++
	in.mu.Unlock()
}

// stream is one locked, seeded source of draws.
type stream struct {
	mu  sync.Mutex
	rnd *rand.Rand
}

func (in *Injector) stream(id uint64) *stream {
	return &stream{rnd: rand.New(rand.NewPCG(uint64(in.seed), id))}
}

// float returns a draw in [0, 1).
func (s *stream) float() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rnd.Float64()
}

// intN returns a draw in [0, n).
func (s *stream) intN(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rnd.IntN(n)
}

// hit draws once and reports whether it falls under p; it always draws, so that the sequence of
// draws does not depend on the rates or on whether the injector is enabled.
func (in *Injector) hit(s *stream, p float64) bool {
	u := s.float()
	return in.Enabled() && u < p
}
