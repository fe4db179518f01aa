package postgres_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	schema := schemaFor(t, "metrics")
	n := 0
	storetest.RunMetrics(t, "postgres", func(t *testing.T, reg prometheus.Registerer) store.Store {
		n++
		s, err := postgres.Open(t.Context(), serverURL(t), postgres.Options{Schema: schema, Registerer: reg})
		if err != nil {
			t.Fatalf("Open #%d: %v", n, err)
		}
		return s
	})
}
