// Package history keeps a bounded, in-memory record of each pool's demand and agents over time
// for the dashboard's charts and cost estimate: one bucket per Resolution (default 1 minute) over
// Window (default 24 hours), in a ring per pool, so memory does not grow with uptime.
//
// A bucket holds the largest count of each kind seen in it (a chart should show the peak of a
// minute, not whichever sample came last) and the agent-seconds accumulated in it, the integral
// of the live agents over time that the cost estimate multiplies by a price.
package history

import (
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultResolution = time.Minute
	DefaultWindow     = 24 * time.Hour
	// DefaultMaxGap: a longer silence between two samples (the process was stopped, or the
	// sampler stalled) is not integrated into agent-seconds, since nothing is known about it.
	DefaultMaxGap = 5 * time.Minute
)

// Sample is one observation of a pool.
type Sample struct {
	Queued   int
	Running  int
	Starting int
	Idle     int
	Busy     int
	Draining int
	Offline  int
}

// Live counts the agents that cost money: starting, idle, busy and draining. Offline agents are
// mostly the placeholders scale-to-zero keeps registered, which run nowhere.
func (s Sample) Live() int { return s.Starting + s.Idle + s.Busy + s.Draining }

// max returns the element-wise maximum of s and o.
func (s Sample) max(o Sample) Sample {
	return Sample{
		Queued: max(s.Queued, o.Queued), Running: max(s.Running, o.Running),
		Starting: max(s.Starting, o.Starting), Idle: max(s.Idle, o.Idle), Busy: max(s.Busy, o.Busy),
		Draining: max(s.Draining, o.Draining), Offline: max(s.Offline, o.Offline),
	}
}

// Point is one bucket (or several merged by Series): its start, the peak of each count in it
// and the agent-seconds accumulated in it.
type Point struct {
	Time         time.Time
	Peak         Sample
	AgentSeconds float64
}

// Options configures a Recorder. Zero fields take the defaults above.
type Options struct {
	Resolution time.Duration
	Window     time.Duration
	MaxGap     time.Duration
}

// Recorder is safe for concurrent use.
type Recorder struct {
	res, window, maxGap time.Duration
	n                   int // buckets per ring

	mu    sync.Mutex
	pools map[string]*ring
	last  time.Time // newest sample of any pool
}

// ring is one pool's buckets, indexed by bucket number modulo n. A slot whose start is not the
// bucket asked for holds an older bucket and counts as empty.
type ring struct {
	slots    []Point
	used     []bool
	lastAt   time.Time
	lastLive int
}

// New returns an empty Recorder.
func New(opts Options) *Recorder {
	if opts.Resolution <= 0 {
		opts.Resolution = DefaultResolution
	}
	if opts.Window < opts.Resolution {
		opts.Window = max(DefaultWindow, opts.Resolution)
	}
	if opts.MaxGap <= 0 {
		opts.MaxGap = DefaultMaxGap
	}
	return &Recorder{
		res: opts.Resolution, window: opts.Window, maxGap: opts.MaxGap,
		n:     int(opts.Window / opts.Resolution),
		pools: map[string]*ring{},
	}
}

// Resolution is the width of one bucket.
func (r *Recorder) Resolution() time.Duration { return r.res }

// Window is how far back the recorder remembers.
func (r *Recorder) Window() time.Duration { return r.window }

// LastSample is the time of the newest sample of any pool (zero before the first), so a reader
// can tell whether the series changed without reading them.
func (r *Recorder) LastSample() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// bucket returns the bucket number of t and its start.
func (r *Recorder) bucket(t time.Time) (int64, time.Time) {
	b := t.UnixNano() / int64(r.res)
	return b, time.Unix(0, b*int64(r.res)).UTC()
}

func (r *Recorder) slot(b int64) int {
	i := int(b % int64(r.n))
	if i < 0 {
		i += r.n
	}
	return i
}

// Record adds a sample of pool taken at at. Samples older than the pool's newest are ignored:
// the integral runs forwards only.
func (r *Recorder) Record(pool string, at time.Time, s Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rg := r.pools[pool]
	if rg == nil {
		rg = &ring{slots: make([]Point, r.n), used: make([]bool, r.n)}
		r.pools[pool] = rg
	}
	if !rg.lastAt.IsZero() && at.Before(rg.lastAt) {
		return
	}
	b, start := r.bucket(at)
	i := r.slot(b)
	if !rg.used[i] || !rg.slots[i].Time.Equal(start) {
		rg.slots[i] = Point{Time: start, Peak: s}
		rg.used[i] = true
	} else {
		rg.slots[i].Peak = rg.slots[i].Peak.max(s)
	}
	// The live agents of the previous sample held until this one; the time is credited to this
	// sample's bucket (at most MaxGap of it, so the error is bounded by one sample interval).
	if !rg.lastAt.IsZero() {
		if gap := at.Sub(rg.lastAt); gap <= r.maxGap {
			rg.slots[i].AgentSeconds += float64(rg.lastLive) * gap.Seconds()
		}
	}
	rg.lastAt, rg.lastLive = at, s.Live()
	if at.After(r.last) {
		r.last = at
	}
}

// Pools lists the pools that have samples, in no particular order.
func (r *Recorder) Pools() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.pools))
	for p := range r.pools {
		out = append(out, p)
	}
	return out
}

// Series returns pool's points in [from, to), oldest first, merging each run of step worth of
// buckets into one point (peaks by maximum, agent-seconds by sum). step is rounded up to a
// multiple of the resolution and groups are aligned to multiples of it, so a point's Time (its
// group's start) may be before from; groups with no sample are left out. from is clamped to the
// window.
func (r *Recorder) Series(pool string, from, to time.Time, step time.Duration) []Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	rg := r.pools[pool]
	if rg == nil || !to.After(from) {
		return nil
	}
	per := max(int64((step+r.res-1)/r.res), 1)
	first, _ := r.bucket(from)
	last, _ := r.bucket(to.Add(-1))
	if oldest := last - int64(r.n) + 1; first < oldest {
		first = oldest
	}
	lo := first
	first -= ((first % per) + per) % per // align groups to multiples of step, so they are stable
	var out []Point
	for g := first; g <= last; g += per {
		var p Point
		found := false
		for b := max(g, lo); b < g+per && b <= last; b++ {
			i := r.slot(b)
			s := rg.slots[i]
			if !rg.used[i] || s.Time.UnixNano()/int64(r.res) != b {
				continue
			}
			if !found {
				p = Point{Time: time.Unix(0, g*int64(r.res)).UTC()}
				found = true
			}
			p.Peak = p.Peak.max(s.Peak)
			p.AgentSeconds += s.AgentSeconds
		}
		if found {
			out = append(out, p)
		}
	}
	return out
}

// AgentSeconds sums pool's agent-seconds over the buckets of [from, to) (the bucket holding from
// included).
func (r *Recorder) AgentSeconds(pool string, from, to time.Time) float64 {
	var sum float64
	for _, p := range r.Series(pool, from, to, r.res) {
		sum += p.AgentSeconds
	}
	return sum
}
