package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strconv"
	"time"
)

//go:embed templates static
var files embed.FS

// page holds the parsed dashboard template and the embedded static assets.
type page struct {
	tmpl   *template.Template
	assets map[string]asset
}

// asset is one embedded static file with a content hash used both as ETag
// and as the cache-busting query of its URL.
type asset struct {
	data []byte
	hash string
}

func newPage() (*page, error) {
	p := &page{assets: map[string]asset{}}
	entries, err := fs.ReadDir(files, "static")
	if err != nil {
		return nil, fmt.Errorf("reading embedded static dir: %w", err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(files, path.Join("static", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading embedded asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(data)
		p.assets[e.Name()] = asset{data: data, hash: hex.EncodeToString(sum[:6])}
	}
	funcs := template.FuncMap{
		"asset":  p.assetURL,
		"stamp":  stamp,
		"clock":  clock,
		"when":   when,
		"iso":    iso,
		"dur":    dur,
		"money":  money,
		"cost":   cost,
		"hours":  hours,
		"id":     id,
		"num":    num,
		"minus":  func(a, b float64) float64 { return a - b },
		"half":   func(a, b float64) float64 { return (a + b) / 2 },
		"bar":    newBar,
		"totals": newTotals,
		"row":    newRow,
	}
	p.tmpl, err = template.New("index.html").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing dashboard template: %w", err)
	}
	return p, nil
}

// assetURL is relative so the dashboard also works behind a path prefix.
func (p *page) assetURL(name string) (string, error) {
	a, ok := p.assets[name]
	if !ok {
		return "", fmt.Errorf("no embedded asset %q", name)
	}
	return "static/" + name + "?v=" + a.hash, nil
}

func (p *page) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := p.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}

// pageData is what templates/index.html renders.
type pageData struct {
	Title     string
	Status    Status
	Err       string
	RefreshMS int64
	// EmptyPool and Empty fill the <template> rows that app.js clones for new rows.
	EmptyPool PoolStatus
	Empty     emptyRows
	// The charts: shown when a HistorySource is configured.
	HasHistory bool
	Window     string
	Windows    []windowLink
	Charts     []chart
	HistoryErr string
}

type emptyRows struct {
	Decision Decision
	Failure  Failure
	Agent    Agent
	Check    Check
}

// windowLink is one of the chart window switches; relative, so a path prefix keeps working.
type windowLink struct {
	Name, URL string
	Current   bool
}

// rowData is one table row: its key (data-row, "agent/3") and its value.
type rowData struct {
	Key string
	V   any
}

func newRow(prefix string, i int, v any) rowData {
	return rowData{Key: prefix + "/" + strconv.Itoa(i), V: v}
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	window, err := parseWindow(r.URL.Query().Get("window"))
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	data := pageData{Title: s.title, RefreshMS: s.refresh.Milliseconds(), Window: windowNames[window]}
	code := http.StatusOK
	st, err := s.status(r.Context())
	if err != nil {
		// The page still renders, with an error banner, so the operator sees
		// why it is empty; the status code tells monitors the truth.
		code = http.StatusInternalServerError
		data.Err = err.Error()
		st = normalize(Status{})
	}
	data.Status = st
	if s.historySrc != nil {
		data.HasHistory = true
		for _, win := range Windows {
			name := windowNames[win]
			data.Windows = append(data.Windows, windowLink{Name: name, URL: "?window=" + name, Current: win == window})
		}
		if h, err := s.history(r.Context(), window); err != nil {
			data.HistoryErr = err.Error()
		} else {
			for _, ph := range h.Pools {
				data.Charts = append(data.Charts, newChart(ph, h.Start, h.End, window))
			}
		}
	}
	var buf bytes.Buffer
	if err := s.page.tmpl.Execute(&buf, data); err != nil {
		s.log.Error("rendering dashboard failed", "err", err)
		http.Error(w, "rendering dashboard failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// The formats below are mirrored by the formats table in static/app.js, so
// that live updates look the same as the first render.

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("15:04:05")
}

// when is clock for an event that may not have happened yet.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05")
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// dur writes seconds compactly with two units at most: 45s, 3m05s, 2h04m, 3d07h.
func dur(secs float64) string {
	n := int64(math.Round(secs))
	switch {
	case n <= 0:
		return "—"
	case n < 60:
		return fmt.Sprintf("%ds", n)
	case n < 3600:
		return fmt.Sprintf("%dm%02ds", n/60, n%60)
	case n < 86400:
		return fmt.Sprintf("%dh%02dm", n/3600, n%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", n/86400, n%86400/3600)
	}
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// cost is money for a pool with a price, and a dash for one without.
func cost(v, price float64) string {
	if price <= 0 {
		return "—"
	}
	return money(v)
}

func hours(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func id(n int64) string {
	if n == 0 {
		return "—"
	}
	return strconv.FormatInt(n, 10)
}

// num writes an SVG coordinate.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// bar is the geometry of a pool's capacity bar: busy, idle and starting
// agents as segments of a 0..100 track that stands for the pool's max.
type bar struct {
	BusyW, IdleX, IdleW, StartX, StartW float64
	Label                               string
}

func newBar(p PoolStatus) bar {
	b := bar{Label: fmt.Sprintf("%d busy, %d idle, %d starting of max %d",
		p.Agents.Busy, p.Agents.Idle, p.Agents.Starting, p.Max)}
	if p.Max <= 0 {
		return b
	}
	left := 100.0
	take := func(n int) float64 {
		w := min(max(float64(n)*100/float64(p.Max), 0), left)
		left -= w
		return w
	}
	b.BusyW = take(p.Agents.Busy)
	b.IdleX = b.BusyW
	b.IdleW = take(p.Agents.Idle)
	b.StartX = b.IdleX + b.IdleW
	b.StartW = take(p.Agents.Starting)
	return b
}

// totals sums the pools for the summary strip above the table. Live agents
// leave out offline ones, which are mostly the placeholders scale-to-zero
// keeps registered.
type totals struct {
	Pools, Queued, Running, LiveAgents, Checks int
	Cost24h                                    float64
}

func newTotals(st Status) totals {
	t := totals{Pools: len(st.Pools), Checks: len(st.Checks)}
	for _, p := range st.Pools {
		t.Queued += p.QueuedJobs
		t.Running += p.RunningJobs
		t.LiveAgents += p.Agents.Starting + p.Agents.Idle + p.Agents.Busy + p.Agents.Draining
		t.Cost24h += p.Cost.Last24h
	}
	return t
}
