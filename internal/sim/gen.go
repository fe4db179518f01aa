package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Shapes of generated traces.
const (
	ShapeSteady      = "steady"       // a constant arrival rate, day and night
	ShapeOfficeHours = "office-hours" // weekday peaks 08:00-18:00 UTC, a nightly batch at 02:00
	ShapeBursty      = "bursty"       // a low background with bursts of 200 jobs
)

// Shapes lists the shapes Generate knows.
var Shapes = []string{ShapeSteady, ShapeOfficeHours, ShapeBursty}

// GenOptions configure Generate.
type GenOptions struct {
	Shape string
	Days  int    // default 1
	Seed  uint64 // default 1
	// Start is the first day's midnight (default Monday 2025-03-03 UTC, so day 0 is a weekday).
	Start   time.Time
	Pool    string   // default "linux"
	Demands []string // default ["docker"]
}

// GenStart is the default start of generated traces: a Monday.
var GenStart = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

// Generate makes a synthetic trace: Poisson arrivals at a rate that depends on the shape and the
// time of week, durations log-normal around 6 minutes (30 s to 1 h).
func Generate(o GenOptions) ([]Job, error) {
	if o.Days <= 0 {
		o.Days = 1
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Start.IsZero() {
		o.Start = GenStart
	}
	if o.Pool == "" {
		o.Pool = "linux"
	}
	if o.Demands == nil {
		o.Demands = []string{"docker"}
	}
	rnd := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	var times []time.Time
	end := o.Start.Add(time.Duration(o.Days) * 24 * time.Hour)
	switch o.Shape {
	case ShapeSteady:
		times = poisson(rnd, o.Start, end, func(time.Time) float64 { return 30 })
	case ShapeOfficeHours:
		times = poisson(rnd, o.Start, end, officeRate)
		for d := o.Start; d.Before(end); d = d.Add(24 * time.Hour) {
			times = append(times, batch(rnd, d.Add(2*time.Hour), 40, 2*time.Minute)...) // nightly batch
		}
	case ShapeBursty:
		times = poisson(rnd, o.Start, end, func(time.Time) float64 { return 6 })
		for d := o.Start; d.Before(end); d = d.Add(24 * time.Hour) {
			for range 2 { // two bursts a day at random times
				at := d.Add(time.Duration(rnd.Int64N(int64(22 * time.Hour))))
				times = append(times, batch(rnd, at, 200, time.Minute)...)
			}
		}
	default:
		return nil, fmt.Errorf("trace shape %q: want one of %v", o.Shape, Shapes)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	jobs := make([]Job, len(times))
	for i, t := range times {
		jobs[i] = Job{QueueTime: t.Truncate(time.Second), Duration: jobDuration(rnd), Demands: o.Demands, Pool: o.Pool}
	}
	return jobs, nil
}

// officeRate is jobs per hour: two peaks on weekdays 08:00-18:00, a trickle at night and on
// weekends.
func officeRate(t time.Time) float64 {
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return 2
	}
	h := float64(t.Hour()) + float64(t.Minute())/60
	if h < 8 || h >= 18 {
		return 4
	}
	// 20/h at the edges, 80/h at 10:30 and 15:00, a dip at lunch.
	return 20 + 60*math.Max(gauss(h, 10.5, 1.2), gauss(h, 15, 1.2))
}

func gauss(x, mu, sigma float64) float64 { return math.Exp(-(x - mu) * (x - mu) / (2 * sigma * sigma)) }

// poisson draws arrivals with a time-varying rate (per hour) by thinning, minute by minute.
func poisson(rnd *rand.Rand, from, to time.Time, rate func(time.Time) float64) []time.Time {
	var out []time.Time
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		lambda := rate(m) / 60 // per minute
		for t := rnd.ExpFloat64() / lambda; t < 1; t += rnd.ExpFloat64() / lambda {
			out = append(out, m.Add(time.Duration(t*float64(time.Minute))))
		}
	}
	return out
}

// batch is n jobs queued within spread of at.
func batch(rnd *rand.Rand, at time.Time, n int, spread time.Duration) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = at.Add(time.Duration(rnd.Int64N(int64(spread))))
	}
	return out
}

// jobDuration is log-normal with a median of 6 minutes, clipped to [30s, 1h].
func jobDuration(rnd *rand.Rand) time.Duration {
	d := time.Duration(6 * float64(time.Minute) * math.Exp(0.8*rnd.NormFloat64()))
	return min(max(d, 30*time.Second), time.Hour).Truncate(time.Second)
}
