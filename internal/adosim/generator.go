package adosim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// DurationDist is a distribution of simulated job durations.
type DurationDist struct {
	kind string
	a, b time.Duration
}

// Fixed is always d.
func Fixed(d time.Duration) DurationDist { return DurationDist{kind: "fixed", a: d} }

// Uniform is uniform on [min, max].
func Uniform(min, max time.Duration) DurationDist {
	return DurationDist{kind: "uniform", a: min, b: max}
}

// Exponential has the given mean.
func Exponential(mean time.Duration) DurationDist {
	return DurationDist{kind: "exponential", a: mean}
}

func (d DurationDist) validate() error {
	switch d.kind {
	case "fixed":
		if d.a < 0 {
			return fmt.Errorf("fixed duration %v is negative", d.a)
		}
	case "uniform":
		if d.a < 0 || d.b < d.a {
			return fmt.Errorf("uniform durations need 0 <= min <= max, got %v..%v", d.a, d.b)
		}
	case "exponential":
		if d.a <= 0 {
			return fmt.Errorf("exponential mean %v must be positive", d.a)
		}
	default:
		return errors.New("no duration distribution (use Fixed, Uniform or Exponential)")
	}
	return nil
}

func (d DurationDist) sample(r *rand.Rand) time.Duration {
	switch d.kind {
	case "uniform":
		return d.a + time.Duration(r.Float64()*float64(d.b-d.a))
	case "exponential":
		return time.Duration(r.ExpFloat64() * float64(d.a))
	default:
		return d.a
	}
}

// GeneratorOptions configure a Generator.
type GeneratorOptions struct {
	Pool string
	// Rate is the mean arrival rate in jobs per second; arrivals are a Poisson process.
	Rate      float64
	Durations DurationDist
	// Demands are put on every job, unless DemandSets is set: then each job takes one of its sets,
	// chosen uniformly.
	Demands    []string
	DemandSets [][]string
	// Count stops the generator after this many jobs; 0 runs until ctx ends.
	Count int
	// Seed makes the arrivals and durations reproducible; 0 picks a random seed.
	Seed uint64
	// JobName prefixes each job's name ("job" by default): the name is JobName-N.
	JobName string
	// Sleep waits between arrivals; default a ctx-aware timer. A seam for virtual time.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Generator queues jobs into an Org at random intervals.
type Generator struct {
	org    *Org
	opts   GeneratorOptions
	rnd    *rand.Rand
	drawn  int
	queued atomic.Int64
}

// NewGenerator checks the options and returns a generator for org.
func NewGenerator(org *Org, opts GeneratorOptions) (*Generator, error) {
	if opts.Pool == "" {
		return nil, errors.New("generator: Pool is required")
	}
	if opts.Rate <= 0 {
		return nil, fmt.Errorf("generator: Rate %v must be positive", opts.Rate)
	}
	if opts.Count < 0 {
		return nil, fmt.Errorf("generator: Count %d is negative", opts.Count)
	}
	if err := opts.Durations.validate(); err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	for _, set := range append([][]string{opts.Demands}, opts.DemandSets...) {
		if _, err := parseDemands(set); err != nil {
			return nil, fmt.Errorf("generator: %w", err)
		}
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Uint64()
	}
	if opts.JobName == "" {
		opts.JobName = "job"
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	return &Generator{org: org, opts: opts, rnd: rand.New(rand.NewPCG(opts.Seed, opts.Seed>>1|1))}, nil
}

// Next draws the next job: the wait before it arrives and its spec. Run uses it; it is exported
// so a virtual-time driver can replay the same arrivals without sleeping.
func (g *Generator) Next() (time.Duration, JobSpec) {
	wait := time.Duration(g.rnd.ExpFloat64() / g.opts.Rate * float64(time.Second))
	demands := g.opts.Demands
	if len(g.opts.DemandSets) > 0 {
		demands = g.opts.DemandSets[g.rnd.IntN(len(g.opts.DemandSets))]
	}
	g.drawn++
	n := g.drawn
	return wait, JobSpec{
		Demands:  append([]string(nil), demands...),
		Duration: g.opts.Durations.sample(g.rnd),
		JobName:  fmt.Sprintf("%s-%d", g.opts.JobName, n),
	}
}

// Run queues jobs until Count is reached (it then returns nil) or ctx ends (ctx.Err()). Call it
// from one goroutine at a time.
func (g *Generator) Run(ctx context.Context) error {
	for g.opts.Count == 0 || g.queued.Load() < int64(g.opts.Count) {
		wait, spec := g.Next()
		if err := g.opts.Sleep(ctx, wait); err != nil {
			return err
		}
		if _, err := g.org.QueueJob(g.opts.Pool, spec); err != nil {
			return fmt.Errorf("generator: queue job %s: %w", spec.JobName, err)
		}
		g.queued.Add(1)
	}
	return nil
}

// Queued returns how many jobs the generator has queued.
func (g *Generator) Queued() int { return int(g.queued.Load()) }
