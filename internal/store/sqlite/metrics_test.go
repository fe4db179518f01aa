package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	n := 0
	storetest.RunMetrics(t, "sqlite", func(t *testing.T, reg prometheus.Registerer) store.Store {
		n++
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{Registerer: reg})
		if err != nil {
			t.Fatalf("Open #%d: %v", n, err)
		}
		return s
	})
}
