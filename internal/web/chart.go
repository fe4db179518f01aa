package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart geometry, in SVG user units. The SVG scales to its box; text keeps its proportions.
const (
	chartW      = 640.0
	chartH      = 200.0
	chartLeft   = 34.0 // room for the y labels
	chartRight  = 8.0
	chartTop    = 10.0
	chartBottom = 22.0 // room for the x labels
)

// seriesNames are the series of every chart, in drawing order (the last on top).
var seriesNames = []string{"queued", "starting", "idle", "busy"}

// chart is what the "chart" template draws for one pool. Only the server computes geometry:
// the page's script replaces a chart with a fresh one from GET /chart/{pool}.
type chart struct {
	Pool, Window string
	W, H         float64
	X0, X1       float64 // plot area, left to right
	Y0, Y1       float64 // plot area, top to bottom
	YTicks       []tick
	XTicks       []tick
	MaxY         float64 // y of the pool's max line; only when HasMax
	HasMax       bool
	Max          int
	Series       []series
	Empty        bool
	Label        string
}

type tick struct {
	Pos   float64
	Label string
}

// series is one polyline: its points as the SVG attribute and how many there
// are, and its newest point, marked with a dot (a lone point draws no line).
type series struct {
	Name         string
	Points       string
	N            int
	LastX, LastY float64
	Last         int
}

func value(p Point, name string) int {
	switch name {
	case "queued":
		return p.Queued
	case "starting":
		return p.Starting
	case "idle":
		return p.Idle
	default:
		return p.Busy
	}
}

// newChart lays out ph over [start, end].
func newChart(ph PoolHistory, start, end time.Time, window time.Duration) chart {
	c := chart{
		Pool: ph.Pool, Window: windowNames[window], W: chartW, H: chartH,
		X0: chartLeft, X1: chartW - chartRight, Y0: chartTop, Y1: chartH - chartBottom,
		Empty: len(ph.Points) == 0, Max: ph.Max,
	}
	peak := max(ph.Max, 1)
	for _, p := range ph.Points {
		for _, n := range seriesNames {
			peak = max(peak, value(p, n))
		}
	}
	step := niceStep(float64(peak) / 4)
	ymax := math.Ceil(float64(peak)/step) * step
	y := func(v float64) float64 { return c.Y1 - v/ymax*(c.Y1-c.Y0) }
	for v := 0.0; v <= ymax; v += step {
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	if ph.Max > 0 {
		c.HasMax, c.MaxY = true, y(float64(ph.Max))
	}
	span := end.Sub(start)
	if span <= 0 {
		span = window
	}
	x := func(t time.Time) float64 {
		f := min(max(float64(t.Sub(start))/float64(span), 0), 1)
		return c.X0 + f*(c.X1-c.X0)
	}
	every := xTickEvery(window)
	for t := start.Truncate(every).Add(every); !t.After(end); t = t.Add(every) {
		c.XTicks = append(c.XTicks, tick{Pos: x(t), Label: t.UTC().Format("15:04")})
	}
	for _, n := range seriesNames {
		var b strings.Builder
		sr := series{Name: n, N: len(ph.Points)}
		for i, p := range ph.Points {
			if i > 0 {
				b.WriteByte(' ')
			}
			sr.Last = value(p, n)
			sr.LastX, sr.LastY = x(p.Time), y(float64(sr.Last))
			fmt.Fprintf(&b, "%.1f,%.1f", sr.LastX, sr.LastY)
		}
		sr.Points = b.String()
		c.Series = append(c.Series, sr)
	}
	c.Label = fmt.Sprintf("%s: queued jobs and starting, idle and busy agents over the last %s", ph.Pool, c.Window)
	return c
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten, at least 1: the charts count agents.
func niceStep(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// xTickEvery spaces the time labels: about six per chart.
func xTickEvery(window time.Duration) time.Duration {
	switch {
	case window <= time.Hour:
		return 10 * time.Minute
	case window <= 6*time.Hour:
		return time.Hour
	default:
		return 4 * time.Hour
	}
}
