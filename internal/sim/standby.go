package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Schedule is a standby level by time of week: rules such as "mon-fri 08:00-18:00 3" (UTC), the
// last rule that matches a time wins (as GitLab's autoscaler periods do), 0 when none does.
type Schedule []ScheduleRule

// ScheduleRule keeps Standby agents on Days between From and To (minutes after midnight, To
// exclusive).
type ScheduleRule struct {
	Days     [7]bool // by time.Weekday
	From, To int
	Standby  int
	text     string
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseSchedule reads rules separated by ";": "DAYS HH:MM-HH:MM N", DAYS being "*", a day
// ("mon"), a range ("mon-fri") or a comma list of those.
func ParseSchedule(s string) (Schedule, error) {
	var out Schedule
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := parseRule(part)
		if err != nil {
			return nil, fmt.Errorf("schedule rule %d %q: %w", i+1, part, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("schedule: no rules; want e.g. \"mon-fri 08:00-18:00 3\"")
	}
	return out, nil
}

func parseRule(s string) (ScheduleRule, error) {
	r := ScheduleRule{text: s}
	f := strings.Fields(s)
	if len(f) != 3 {
		return r, errors.New("want DAYS HH:MM-HH:MM N")
	}
	for d := range strings.SplitSeq(strings.ToLower(f[0]), ",") {
		if d == "*" {
			r.Days = [7]bool{true, true, true, true, true, true, true}
			continue
		}
		from, to, isRange := strings.Cut(d, "-")
		a, ok := dayNames[from]
		if !ok {
			return r, fmt.Errorf("day %q: want sun..sat", from)
		}
		b := a
		if isRange {
			if b, ok = dayNames[to]; !ok {
				return r, fmt.Errorf("day %q: want sun..sat", to)
			}
		}
		for w := a; ; w = (w + 1) % 7 {
			r.Days[w] = true
			if w == b {
				break
			}
		}
	}
	from, to, ok := strings.Cut(f[1], "-")
	if !ok {
		return r, fmt.Errorf("hours %q: want HH:MM-HH:MM", f[1])
	}
	var err error
	if r.From, err = clockMinutes(from); err != nil {
		return r, err
	}
	if r.To, err = clockMinutes(to); err != nil {
		return r, err
	}
	if r.To <= r.From {
		return r, fmt.Errorf("hours %q: the end must be after the start", f[1])
	}
	if r.Standby, err = strconv.Atoi(f[2]); err != nil || r.Standby < 0 {
		return r, fmt.Errorf("standby %q: want a whole number >= 0", f[2])
	}
	return r, nil
}

func clockMinutes(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("time %q: want HH:MM from 00:00 to 24:00", s)
	}
	return hh*60 + mm, nil
}

// At is the standby level at t.
func (s Schedule) At(t time.Time) int {
	t = t.UTC()
	m := t.Hour()*60 + t.Minute()
	n := 0
	for _, r := range s {
		if r.Days[t.Weekday()] && m >= r.From && m < r.To {
			n = r.Standby
		}
	}
	return n
}

func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.text
	}
	return strings.Join(parts, "; ")
}

// bucket is 5 minutes; a week has weekBuckets of them, a day dayBuckets.
const (
	bucket      = 5 * time.Minute
	day         = 24 * time.Hour
	week        = 7 * day
	weekBuckets = int(week / bucket)
	dayBuckets  = int(day / bucket)
	// smooth is how many neighbouring buckets on each side lend their counts to a bucket's
	// samples: a history of one week would otherwise give one sample per bucket.
	smooth = 2
)

// weekBucket is t's 5-minute bucket of the week, weeks starting Monday 00:00 UTC.
func weekBucket(t time.Time) int {
	t = t.UTC()
	day := (int(t.Weekday()) + 6) % 7 // Monday 0
	return (day*24*60 + t.Hour()*60 + t.Minute()) / int(bucket/time.Minute)
}

// dayBucket is t's 5-minute bucket of the day (UTC).
func dayBucket(t time.Time) int {
	t = t.UTC()
	return (t.Hour()*60 + t.Minute()) / int(bucket/time.Minute)
}

// Prediction is a standby level per pool and 5-minute bucket of the week (or of the day, when
// it learned from less than a week).
type Prediction struct {
	level  map[string][]int
	ahead  time.Duration
	weekly bool
	// From and To bound the history it learned from: nothing at or after To was seen.
	From, To time.Time
	Jobs     int
}

// Learn computes a standby level for each pool and 5-minute bucket from history: weekly buckets
// if the history covers at least a week, else daily ones. A bucket's samples are the jobs queued
// in it and in its smooth neighbours on each side, on every week (day) of the history, empty
// ones included; the level is the q-quantile of the samples scaled to the jobs expected within
// one mean boot time, rounded up. q is the cost/wait knob: higher keeps more agents waiting. The
// level at t looks one mean boot time ahead, since a launch decided at t is ready only then.
// Only history is read: pass the part of a trace before the part it is scored on.
func Learn(history []Job, q float64, boot BootDist) (*Prediction, error) {
	if q < 0 || q > 1 {
		return nil, fmt.Errorf("quantile %v: want 0..1", q)
	}
	p := &Prediction{level: map[string][]int{}, ahead: boot.Mean(), Jobs: len(history)}
	if len(history) == 0 {
		return p, nil
	}
	first, last := history[0].QueueTime, history[0].QueueTime
	for _, j := range history {
		first, last = minTime(first, j.QueueTime), maxTime(last, j.QueueTime)
	}
	p.From, p.To = dayStart(first), dayStart(last).Add(day)
	p.weekly = p.To.Sub(p.From) >= week
	slots := int(p.To.Sub(p.From) / bucket)
	counts := map[string][]int{} // pool -> jobs per 5-minute slot of the history
	for _, j := range history {
		c := counts[j.Pool]
		if c == nil {
			c = make([]int, slots)
			counts[j.Pool] = c
		}
		c[int(j.QueueTime.Sub(p.From)/bucket)]++
	}
	n := dayBuckets
	if p.weekly {
		n = weekBuckets
	}
	perBoot := float64(boot.Mean()) / float64(bucket)
	for pool, c := range counts {
		samples := make([][]int, n)
		for s, k := range c {
			b := p.bucketOf(p.From.Add(time.Duration(s) * bucket))
			for d := -smooth; d <= smooth; d++ {
				i := ((b+d)%n + n) % n
				samples[i] = append(samples[i], k)
			}
		}
		lv := make([]int, n)
		for b, xs := range samples {
			if len(xs) > 0 {
				lv[b] = int(math.Ceil(quantileInt(xs, q) * perBoot))
			}
		}
		p.level[pool] = lv
	}
	return p, nil
}

func (p *Prediction) bucketOf(t time.Time) int {
	if p.weekly {
		return weekBucket(t)
	}
	return dayBucket(t)
}

// At is the standby level for pool at t.
func (p *Prediction) At(pool string, t time.Time) int {
	lv := p.level[pool]
	if lv == nil {
		return 0
	}
	return lv[p.bucketOf(t.Add(p.ahead))]
}

// quantileInt is the nearest-rank q-quantile of xs.
func quantileInt(xs []int, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return float64(s[min(max(i, 0), len(s)-1)])
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
