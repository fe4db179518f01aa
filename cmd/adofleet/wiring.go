package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/web"
	"github.com/adofleet/adofleet/internal/web/fleet"
)

// dashboard is what the dashboard reads: the controller, the store, and each pool's price.
type dashboard struct {
	ctrl     *controller.Controller
	store    fleet.Store
	prices   map[string]float64 // pool -> cost of one agent-hour; none: no cost shown
	currency string
	// guard, if set, wraps the dashboard's routes (allow-list and credentials; security.go).
	guard func(http.Handler) http.Handler
}

// startWeb serves the dashboard and metrics on addr until ctx ends, and samples the pools for
// its charts. It returns the bound address (useful with port 0) once the listener is open, so a
// busy port is an error at start-up.
func startWeb(ctx context.Context, addr, title string, d dashboard, reg *prometheus.Registry, ready func() error, log *slog.Logger, mounts ...mount) (string, error) {
	src, err := fleet.New(fleet.Options{
		Controller: d.ctrl, Store: d.store, Prices: d.prices, Currency: d.currency, Logger: log,
	})
	if err != nil {
		return "", fmt.Errorf("dashboard: %w", err)
	}
	dash, err := web.New(web.Options{
		Source: src, History: src, Gatherer: reg, Ready: ready, Title: title,
		Logger: log.With("component", "web"),
	})
	if err != nil {
		return "", fmt.Errorf("dashboard: %w", err)
	}
	var h http.Handler = dash
	if d.guard != nil {
		h = d.guard(dash)
	}
	if len(mounts) > 0 {
		// internal/web has its own mux; other endpoints (the checks webhook) share its listener.
		mux := http.NewServeMux()
		mux.Handle("/", h)
		for _, m := range mounts {
			mux.Handle(m.pattern, m.handler)
		}
		h = mux
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dashboard: listen on %s: %w (choose another address with --listen)", addr, err)
	}
	srv := web.NewHTTPServer(addr, h)
	srv.RegisterOnShutdown(dash.Close) // live streams end, so Shutdown does not wait for them
	// The first sample is taken before the listener serves, so the charts have a point from the
	// first request on (Run samples again at once; a bucket keeps one point).
	if err := src.Sample(ctx); err != nil {
		log.Warn("sampling the pools for the dashboard failed", "err", err)
	}
	go func() { _ = src.Run(ctx) }()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("dashboard server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	return ln.Addr().String(), nil
}

// mount is an extra handler served on the dashboard's listener under pattern.
type mount struct {
	pattern string
	handler http.Handler
}

// newRegistry returns a Prometheus registry with the Go and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return reg
}
