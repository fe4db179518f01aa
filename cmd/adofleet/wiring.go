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
)

// statusSource adapts the controller's Status to the dashboard's, field by field.
type statusSource struct{ c *controller.Controller }

func (s statusSource) Status(ctx context.Context) (web.Status, error) {
	st, err := s.c.Status(ctx)
	if err != nil {
		return web.Status{}, err
	}
	out := web.Status{GeneratedAt: st.GeneratedAt}
	for _, p := range st.Pools {
		out.Pools = append(out.Pools, web.PoolStatus{
			Name: p.Name, Provider: p.Provider, Min: p.Min, Max: p.Max, Standby: p.Standby,
			QueuedJobs: p.QueuedJobs, RunningJobs: p.RunningJobs,
			Agents: web.AgentCounts{
				Starting: p.Agents.Starting, Idle: p.Agents.Idle, Busy: p.Agents.Busy,
				Draining: p.Agents.Draining, Offline: p.Agents.Offline,
			},
			LastReconcile: p.LastReconcile, LastError: p.LastError,
		})
	}
	for _, d := range st.Decisions {
		out.Decisions = append(out.Decisions, web.Decision{
			Time: d.Time, Pool: d.Pool, Action: d.Action, Target: d.Target, Reason: d.Reason,
		})
	}
	return out, nil
}

// startWeb serves the dashboard and metrics on addr until ctx ends. It returns the bound address
// (useful with port 0) once the listener is open, so a busy port is an error at start-up.
func startWeb(ctx context.Context, addr, title string, c *controller.Controller, reg *prometheus.Registry, ready func() error, log *slog.Logger, mounts ...mount) (string, error) {
	dash, err := web.New(web.Options{
		Source: statusSource{c}, Gatherer: reg, Ready: ready, Title: title,
		Logger: log.With("component", "web"),
	})
	if err != nil {
		return "", fmt.Errorf("dashboard: %w", err)
	}
	var h http.Handler = dash
	if len(mounts) > 0 {
		// internal/web has its own mux; other endpoints (the checks webhook) share its listener.
		mux := http.NewServeMux()
		mux.Handle("/", dash)
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
