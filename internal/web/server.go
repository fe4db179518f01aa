// Package web serves the read-only dashboard (GET /), its data as JSON
// (GET /api/status, GET /api/history), live updates as server-sent events
// (GET /api/events), each pool's chart as SVG (GET /chart/{pool}),
// Prometheus metrics (GET /metrics) and the liveness and readiness probes
// (GET /healthz, GET /readyz). Every route is GET (and HEAD) only.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// statusTimeout bounds one call to the StatusSource so that a stuck
// controller cannot hold dashboard requests open.
const statusTimeout = 5 * time.Second

// contentSecurityPolicy allows only this origin's own scripts, styles and
// fetches: the page has no inline script or style and is never framed.
const contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Options configures a Server.
type Options struct {
	// Source supplies the dashboard's data. Required.
	Source StatusSource
	// Gatherer is what GET /metrics exposes. Required.
	Gatherer prometheus.Gatherer
	// Ready reports why the process is not ready to serve, or nil when it is.
	// A nil Ready means always ready.
	Ready func() error
	// Logger receives the errors of the handlers. Nil discards them.
	Logger *slog.Logger
	// Title heads the dashboard. Empty means "adofleet".
	Title string
	// History supplies the charts. Nil leaves the charts out.
	History HistorySource
	// Refresh is how often live clients get new data (default 2s).
	Refresh time.Duration
	// MaxStreams bounds the concurrent /api/events clients (default 32); more
	// get 503 and the page falls back to polling /api/status.
	MaxStreams int
}

// Defaults of Options.
const (
	DefaultRefresh    = 2 * time.Second
	DefaultMaxStreams = 32
)

// Server is the http.Handler of every route the web package serves.
type Server struct {
	mux        *http.ServeMux
	source     StatusSource
	historySrc HistorySource
	ready      func() error
	log        *slog.Logger
	title      string
	refresh    time.Duration
	page       *page
	hub        *hub
}

var _ http.Handler = (*Server)(nil)

// New checks opts and builds the Server.
func New(opts Options) (*Server, error) {
	if opts.Source == nil {
		return nil, errors.New("web.New: Options.Source is nil")
	}
	if opts.Gatherer == nil {
		return nil, errors.New("web.New: Options.Gatherer is nil")
	}
	s := &Server{
		mux:        http.NewServeMux(),
		source:     opts.Source,
		historySrc: opts.History,
		ready:      opts.Ready,
		log:        opts.Logger,
		title:      opts.Title,
		refresh:    opts.Refresh,
	}
	if s.refresh <= 0 {
		s.refresh = DefaultRefresh
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if s.ready == nil {
		s.ready = func() error { return nil }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "web")
	if s.title == "" {
		s.title = "adofleet"
	}
	pg, err := newPage()
	if err != nil {
		return nil, fmt.Errorf("web.New: %w", err)
	}
	s.page = pg
	s.hub = newHub(s.pollStatus, s.refresh, opts.MaxStreams)

	metrics := promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	// A "GET" pattern also answers HEAD; any other method on a known path gets
	// 405 with an Allow header from ServeMux, and an unknown path 404.
	s.mux.HandleFunc("GET /{$}", s.handlePage)
	s.mux.HandleFunc("GET /api/status", s.handleAPIStatus)
	s.mux.HandleFunc("GET /api/history", s.handleAPIHistory)
	s.mux.HandleFunc("GET /api/events", s.handleEvents)
	s.mux.HandleFunc("GET /chart/{pool}", s.handleChart)
	s.mux.Handle("GET /metrics", metrics)
	s.mux.HandleFunc("GET /healthz", handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.HandleFunc("GET /static/{name}", s.page.serveAsset)
	return s, nil
}

// ServeHTTP sets the security headers on every response, errors included,
// then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// status reads the source and shapes the result as the page and API show it.
func (s *Server) status(ctx context.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	st, err := s.source.Status(ctx)
	if err != nil {
		s.log.Warn("reading status failed", "err", err)
		return Status{}, fmt.Errorf("reading status: %w", err)
	}
	return normalize(st), nil
}

// Close ends every live stream and refuses new ones. http.Server.Shutdown
// waits for handlers to return, and a stream returns only when told to: call
// Close from http.Server.RegisterOnShutdown. Close is idempotent.
func (s *Server) Close() { s.hub.close() }

// apiError is the body of a failed /api/... call.
type apiError struct {
	Error string `json:"error"`
}

func (s *Server) handleAPIStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context())
	if err != nil {
		s.writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		return
	}
	s.writeJSON(w, http.StatusOK, st)
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encoding JSON response failed", "err", err)
		http.Error(w, "encoding response failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.ready(); err != nil {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	writeText(w, http.StatusOK, "ok")
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// NewHTTPServer returns an http.Server for h on addr with bounded timeouts,
// header size and body size (MaxRequestBodyBytes), so that slow or hostile
// clients cannot hold connections. Wrap a streaming handler in LongLived.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           limitBodies(h, MaxRequestBodyBytes),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
