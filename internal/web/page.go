package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed templates/index.html static
var files embed.FS

// refreshInterval is how often static/app.js reloads /api/status; the page
// passes it to the script in a data attribute.
const refreshInterval = 2 * time.Second

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
		"iso":    iso,
		"bar":    newBar,
		"totals": newTotals,
	}
	p.tmpl, err = template.New("index.html").Funcs(funcs).ParseFS(files, "templates/index.html")
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
	// EmptyPool fills the <template> row that app.js clones for a new pool.
	EmptyPool PoolStatus
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	data := pageData{Title: s.title, RefreshMS: refreshInterval.Milliseconds()}
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

// The time formats below are mirrored by fmtStamp and fmtClock in
// static/app.js, so that live updates look the same as the first render.

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

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

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
	Pools, Queued, Running, LiveAgents int
}

func newTotals(pools []PoolStatus) totals {
	t := totals{Pools: len(pools)}
	for _, p := range pools {
		t.Queued += p.QueuedJobs
		t.Running += p.RunningJobs
		t.LiveAgents += p.Agents.Starting + p.Agents.Idle + p.Agents.Busy + p.Agents.Draining
	}
	return t
}
