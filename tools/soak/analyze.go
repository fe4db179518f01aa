package main

import (
	"fmt"
	"math"
	"slices"
)

// Limit is how much a resource series may grow before the soak calls it a leak: the last third's
// median may exceed the first third's by Rel (a fraction) plus Abs (in the series' unit), and the
// least-squares slope may not exceed SlopeRel of the first third's median per hour.
type Limit struct {
	Rel, Abs float64
	SlopeRel float64
}

// Limits per resource. Every series moves with the load at the moment of the scrape (agents
// registering, requests in flight, GC timing), so a margin is needed; a leak still crosses it,
// because a leak grows with the number of jobs and the soak runs thousands of them:
//   - goroutines: each in-flight request, agent session and child process holds a few; the count
//     swings by tens between samples, hence 25% + 20.
//   - heap in use: sampled at a random point of the GC cycle, it moves by up to GOGC (100%) of the
//     live heap between samples; medians of ten samples or more keep within 25% + 8 MiB.
//   - RSS: follows the heap with the runtime's lag in returning pages, 25% + 16 MiB.
//   - open fds: two pipes per agent process and a connection or two per request, 25% + 20.
//   - the SQLite store (its file, WAL and shared memory): the default demo arguments prune it
//     every minute to 1,000 decisions and keep ended agents' records 2 minutes, so it reaches its
//     size within the warm-up; the WAL alone swings by up to its 4 MiB checkpoint size, hence
//     25% + 4 MiB. Growth of 10 KiB a job crosses that several times over in 30 minutes.
//
// The slope check (50% of the start per hour) catches a steady leak too slow for the medians of a
// short run, and is not fooled by one noisy third.
var Limits = map[string]Limit{
	"goroutines":       {Rel: 0.25, Abs: 20, SlopeRel: 0.5},
	"heap_inuse_bytes": {Rel: 0.25, Abs: 8 << 20, SlopeRel: 0.5},
	"rss_bytes":        {Rel: 0.25, Abs: 16 << 20, SlopeRel: 0.5},
	"open_fds":         {Rel: 0.25, Abs: 20, SlopeRel: 0.5},
	"sqlite_bytes":     {Rel: 0.25, Abs: 4 << 20, SlopeRel: 0.5},
}

// Stats describe one series after the warm-up.
type Stats struct {
	Name                  string
	Start, End, Min, Max  float64
	Median                float64 // of every sample after the warm-up
	FirstThird, LastThird float64 // medians, net of the agent processes (see seriesStats)
	PerAgent              float64 // fitted cost of one agent process alive
	SlopePerHour          float64 // fitted drift per hour, net of the agent processes
	RawSlopePerHour       float64 // least squares of the raw series
	Limit                 Limit
	Failed                bool
	Reason                string
}

// Verdict is the soak's conclusion.
type Verdict struct {
	Series        []Stats
	Samples       int // after the warm-up
	JobsQueued    float64
	JobsFinished  float64
	JobsFailed    float64
	RanTwice      float64
	LastThirdJobs float64 // finished during the last third
	LastThirdIn   float64 // queued during the last third
	// Medians of the jobs queued or running: a backlog that grows means the pool fell behind.
	BacklogFirst, BacklogLast float64
	Faults                    float64
	ReconcileErrs             float64
	ADOErrors                 float64
	Problems                  []string
}

// OK reports whether nothing leaked and jobs kept finishing.
func (v Verdict) OK() bool { return len(v.Problems) == 0 }

// analyze judges samples taken at a steady interval; those before warmup seconds are only
// reported, not judged (the pool fills, caches and pools warm up).
func analyze(samples []Sample, warmup float64) (Verdict, error) {
	var post []Sample
	for _, s := range samples {
		if s.Seconds >= warmup {
			post = append(post, s)
		}
	}
	if len(post) < 6 {
		return Verdict{}, fmt.Errorf("analyze: %d samples after the %.0fs warm-up, want at least 6 (run longer)", len(post), warmup)
	}
	third := len(post) / 3
	first, last := post[:third], post[len(post)-third:]
	v := Verdict{Samples: len(post)}
	for _, res := range []struct {
		name string
		get  func(Sample) float64
	}{
		{"goroutines", func(s Sample) float64 { return s.Goroutines }},
		{"heap_inuse_bytes", func(s Sample) float64 { return s.HeapInuse }},
		{"rss_bytes", func(s Sample) float64 { return s.RSS }},
		{"open_fds", func(s Sample) float64 { return s.FDs }},
		{"sqlite_bytes", func(s Sample) float64 { return s.DBBytes }},
	} {
		st := seriesStats(res.name, post, first, last, res.get, Limits[res.name])
		if st.Failed {
			v.Problems = append(v.Problems, st.Reason)
		}
		v.Series = append(v.Series, st)
	}
	end := samples[len(samples)-1]
	v.JobsQueued, v.JobsFinished, v.JobsFailed, v.RanTwice = end.JobsQueued, end.JobsFinished, end.JobsFailed, end.RanTwice
	v.Faults, v.ReconcileErrs, v.ADOErrors = end.Faults, end.ReconcileErrors, end.ADOErrors
	v.BacklogFirst = median(values(first, func(s Sample) float64 { return s.JobsUnfinished }))
	v.BacklogLast = median(values(last, func(s Sample) float64 { return s.JobsUnfinished }))
	lastStart := last[0]
	v.LastThirdJobs = end.JobsFinished - lastStart.JobsFinished
	v.LastThirdIn = end.JobsQueued - lastStart.JobsQueued
	switch {
	case v.LastThirdJobs <= 0:
		v.Problems = append(v.Problems, "jobs stopped finishing: none finished in the last third")
	case v.LastThirdJobs < 0.5*v.LastThirdIn:
		// A pool keeping up finishes about as many as arrive; half leaves room for the queue's
		// swings and the jobs running at the boundaries.
		v.Problems = append(v.Problems, fmt.Sprintf("jobs fell behind: %.0f finished in the last third for %.0f queued", v.LastThirdJobs, v.LastThirdIn))
	}
	if v.RanTwice > 0 {
		v.Problems = append(v.Problems, fmt.Sprintf("%.0f jobs ran twice", v.RanTwice))
	}
	return v, nil
}

// seriesStats judges one series net of the load. Each agent process alive at a scrape adds two
// pipes and a goroutine or two, and the number alive swings from 0 to --max between scrapes, so
// the raw series rise and fall with it. A least-squares fit y = a + b*agents + c*hours separates
// the two: c is the drift with the load held fixed (SlopePerHour), and the thirds' medians are
// taken of y - b*agents. A leak shows in both; a run whose last scrapes landed on busy moments
// does not.
func seriesStats(name string, post, first, last []Sample, get func(Sample) float64, lim Limit) Stats {
	all := values(post, get)
	hours, agents := make([]float64, len(post)), values(post, func(s Sample) float64 { return s.Agents })
	for i, s := range post {
		hours[i] = s.Seconds / 3600
	}
	perAgent, drift := fit(agents, hours, all)
	adjusted := func(s Sample) float64 { return get(s) - perAgent*s.Agents }
	st := Stats{
		Name: name, Start: all[0], End: all[len(all)-1], Min: slices.Min(all), Max: slices.Max(all),
		Median: median(all), FirstThird: median(values(first, adjusted)), LastThird: median(values(last, adjusted)),
		PerAgent: perAgent, SlopePerHour: drift, RawSlopePerHour: slope(hours, all), Limit: lim,
	}
	if allowed := st.FirstThird*(1+lim.Rel) + lim.Abs; st.LastThird > allowed {
		st.Failed = true
		st.Reason = fmt.Sprintf("%s grew: last third's median %.0f > first third's %.0f + %.0f%% + %.0f", name, st.LastThird, st.FirstThird, lim.Rel*100, lim.Abs)
	} else if maxSlope := lim.SlopeRel*st.FirstThird + lim.Abs; st.SlopePerHour > maxSlope {
		st.Failed = true
		st.Reason = fmt.Sprintf("%s grew: %.0f per hour (least squares) > %.0f%% of %.0f + %.0f", name, st.SlopePerHour, lim.SlopeRel*100, st.FirstThird, lim.Abs)
	}
	return st
}

func values(ss []Sample, get func(Sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = get(s)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// fit returns b and c of the least-squares fit y = a + b*x1 + c*x2. When x1 does not vary (or
// varies in step with x2) it fits y = a + c*x2 alone and returns b = 0.
func fit(x1, x2, y []float64) (b, c float64) {
	m1, m2, my := mean(x1), mean(x2), mean(y)
	var s11, s22, s12, s1y, s2y float64
	for i := range y {
		d1, d2, dy := x1[i]-m1, x2[i]-m2, y[i]-my
		s11 += d1 * d1
		s22 += d2 * d2
		s12 += d1 * d2
		s1y += d1 * dy
		s2y += d2 * dy
	}
	det := s11*s22 - s12*s12
	if len(y) < 3 || s11 == 0 || det <= 1e-9*s11*s22 {
		return 0, slope(x2, y)
	}
	return (s1y*s22 - s2y*s12) / det, (s2y*s11 - s1y*s12) / det
}

func mean(xs []float64) float64 {
	var t float64
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

// slope is the least-squares slope of ys over xs (0 when xs do not vary).
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
