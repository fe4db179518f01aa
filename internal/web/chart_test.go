package web_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/web"
)

var (
	polylineRE = regexp.MustCompile(`<polyline class="line \w+" data-series="(\w+)" data-n="(\d+)" points="([^"]*)">`)
	yLabelRE   = regexp.MustCompile(`text-anchor="end">([\d.]+)</text>`)
	xLabelRE   = regexp.MustCompile(`text-anchor="middle">(\d\d:\d\d)</text>`)
	maxLineRE  = regexp.MustCompile(`<line class="maxline" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)"`)
)

// TestChartGeometry checks the SVG the server draws: four series with a
// point per sample, placed by time and value, a y scale with round steps
// that covers the pool's max, time labels, and the max line.
func TestChartGeometry(t *testing.T) {
	t.Parallel()
	end := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		max        int
		points     []web.Point
		wantY      []string
		wantSeries map[string][]string
	}{
		{
			name: "scale to max", max: 10,
			points: []web.Point{
				{Time: end.Add(-time.Hour), Queued: 0, Busy: 5},
				{Time: end.Add(-30 * time.Minute), Queued: 10, Busy: 10},
				{Time: end, Queued: 0, Busy: 0},
			},
			wantY: []string{"0", "5", "10"},
			// x from 34 to 632 over the hour, y from 178 (0) to 10 (10).
			wantSeries: map[string][]string{
				"queued":   {"34.0,178.0", "333.0,10.0", "632.0,178.0"},
				"starting": {"34.0,178.0", "333.0,178.0", "632.0,178.0"},
				"idle":     {"34.0,178.0", "333.0,178.0", "632.0,178.0"},
				"busy":     {"34.0,94.0", "333.0,10.0", "632.0,178.0"},
			},
		},
		{
			name: "a peak above max raises the scale", max: 4,
			points: []web.Point{{Time: end.Add(-15 * time.Minute), Queued: 7, Idle: 1}},
			wantY:  []string{"0", "2", "4", "6", "8"},
			wantSeries: map[string][]string{
				"queued": {"482.5,31.0"}, "starting": {"482.5,178.0"}, "idle": {"482.5,157.0"}, "busy": {"482.5,178.0"},
			},
		},
		{
			name: "no samples", max: 3, wantY: []string{"0", "1", "2", "3"},
			wantSeries: map[string][]string{"queued": {}, "starting": {}, "idle": {}, "busy": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := web.Status{GeneratedAt: end, Pools: []web.PoolStatus{{Name: "p", Max: tt.max}}}
			src := &fakeSource{st: st, hist: map[string]web.PoolHistory{"p": {Pool: "p", Max: tt.max, Points: tt.points}}}
			srv := newTestServer(t, src, nil)
			res, svg := do(t, "GET", srv.URL+"/chart/p")
			if res.StatusCode != 200 {
				t.Fatalf("GET /chart/p: got %d %s", res.StatusCode, svg)
			}
			got := map[string][]string{}
			for _, m := range polylineRE.FindAllStringSubmatch(svg, -1) {
				pts := strings.Fields(m[3])
				got[m[1]] = pts
				if n, _ := strconv.Atoi(m[2]); n != len(pts) {
					t.Errorf("series %s: data-n %d, but %d points", m[1], n, len(pts))
				}
			}
			if diff := cmp.Diff(tt.wantSeries, got); diff != "" {
				t.Errorf("series (-want +got):\n%s", diff)
			}
			var ys []string
			for _, m := range yLabelRE.FindAllStringSubmatch(svg, -1) {
				ys = append(ys, m[1])
			}
			if diff := cmp.Diff(tt.wantY, ys); diff != "" {
				t.Errorf("y labels (-want +got):\n%s", diff)
			}
			var xs []string
			for _, m := range xLabelRE.FindAllStringSubmatch(svg, -1) {
				xs = append(xs, m[1])
			}
			if want := []string{"09:10", "09:20", "09:30", "09:40", "09:50", "10:00"}; !cmp.Equal(xs, want) {
				t.Errorf("x labels: got %v, want %v", xs, want)
			}
			if m := maxLineRE.FindStringSubmatch(svg); m == nil {
				t.Errorf("no max line in %s", svg)
			}
			if empty := strings.Contains(svg, "No samples yet"); empty != (len(tt.points) == 0) {
				t.Errorf("the no-samples note shown=%v, want %v", empty, len(tt.points) == 0)
			}
		})
	}
}

// TestPageChartsPerPool: the page draws one chart per pool of the history,
// and none when the server has no HistorySource.
func TestPageChartsPerPool(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, newSampleSource(), nil)
	_, body := do(t, "GET", srv.URL+"/")
	charts := regexp.MustCompile(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="(\w+)"`).FindAllStringSubmatch(body, -1)
	var pools []string
	for _, m := range charts {
		pools = append(pools, m[1])
	}
	if want := []string{"linux", "windows"}; !cmp.Equal(pools, want) {
		t.Errorf("charts: got %v, want %v", pools, want)
	}
	if n := strings.Count(body, `data-n="60"`); n != 8 {
		t.Errorf("series of 60 points: got %d, want 4 per pool", n)
	}

	plain := newTestServer(t, statusOnly{&fakeSource{st: sampleStatus()}}, nil)
	_, body = do(t, "GET", plain.URL+"/")
	if strings.Contains(body, `class="chart"`) || strings.Contains(body, `id="charts"`) {
		t.Errorf("a server without history draws charts")
	}
	if res, _ := do(t, "GET", plain.URL+"/api/history"); res.StatusCode != 404 {
		t.Errorf("GET /api/history without history: got %d, want 404", res.StatusCode)
	}
}

// statusOnly hides fakeSource's History method.
type statusOnly struct{ web.StatusSource }
