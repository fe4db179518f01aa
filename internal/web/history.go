package web

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// HistorySource supplies the series the dashboard charts: each pool's queued jobs and starting,
// idle and busy agents over the last window.
type HistorySource interface {
	History(ctx context.Context, window time.Duration) (History, error)
}

// History is every pool's series over [Start, End], oldest point first. It is the body of
// GET /api/history.
type History struct {
	Start       time.Time     `json:"start"`
	End         time.Time     `json:"end"`
	StepSeconds float64       `json:"step_seconds"`
	Pools       []PoolHistory `json:"pools"`
}

// PoolHistory is one pool's series. Max is the pool's cap, drawn as a line on its chart.
type PoolHistory struct {
	Pool   string  `json:"pool"`
	Max    int     `json:"max"`
	Points []Point `json:"points"`
}

// Point is the peak of each count over one step starting at Time.
type Point struct {
	Time     time.Time `json:"t"`
	Queued   int       `json:"queued"`
	Starting int       `json:"starting"`
	Idle     int       `json:"idle"`
	Busy     int       `json:"busy"`
}

// Windows are the chart windows a client may ask for; the first is the default.
var Windows = []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour}

// windowNames are how Windows appear in URLs (?window=6h).
var windowNames = map[time.Duration]string{time.Hour: "1h", 6 * time.Hour: "6h", 24 * time.Hour: "24h"}

// parseWindow reads the ?window= query: empty means the default, anything but a listed window
// is an error naming the allowed values.
func parseWindow(q string) (time.Duration, error) {
	if q == "" {
		return Windows[0], nil
	}
	for _, w := range Windows {
		if windowNames[w] == q {
			return w, nil
		}
	}
	return 0, fmt.Errorf("window %q: want one of 1h, 6h, 24h", q)
}

// history reads the HistorySource with the same bound as status.
func (s *Server) history(ctx context.Context, window time.Duration) (History, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	h, err := s.historySrc.History(ctx, window)
	if err != nil {
		s.log.Warn("reading history failed", "err", err)
		return History{}, fmt.Errorf("reading history: %w", err)
	}
	h.Pools = nonNil(slices.Clone(h.Pools))
	for i := range h.Pools {
		h.Pools[i].Points = nonNil(h.Pools[i].Points)
	}
	return h, nil
}
