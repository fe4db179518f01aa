package web

import (
	"bytes"
	"net/http"
)

// handleAPIHistory serves the charts' series: GET /api/history?window=1h.
func (s *Server) handleAPIHistory(w http.ResponseWriter, r *http.Request) {
	window, err := parseWindow(r.URL.Query().Get("window"))
	if err != nil {
		s.writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if s.historySrc == nil {
		s.writeJSON(w, http.StatusNotFound, apiError{Error: "no history: the dashboard was started without a history source"})
		return
	}
	h, err := s.history(r.Context(), window)
	if err != nil {
		s.writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		return
	}
	s.writeJSON(w, http.StatusOK, h)
}

// handleChart serves one pool's chart as a standalone SVG document: the page
// swaps it in when new samples arrive, and it can be linked on its own.
func (s *Server) handleChart(w http.ResponseWriter, r *http.Request) {
	window, err := parseWindow(r.URL.Query().Get("window"))
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.historySrc == nil {
		http.NotFound(w, r)
		return
	}
	h, err := s.history(r.Context(), window)
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	pool := r.PathValue("pool")
	for _, ph := range h.Pools {
		if ph.Pool != pool {
			continue
		}
		var buf bytes.Buffer
		if err := s.page.tmpl.ExecuteTemplate(&buf, "chart", newChart(ph, h.Start, h.End, window)); err != nil {
			s.log.Error("rendering chart failed", "pool", pool, "err", err)
			http.Error(w, "rendering chart failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes())
		return
	}
	writeText(w, http.StatusNotFound, "no pool "+pool+" in the history")
}
