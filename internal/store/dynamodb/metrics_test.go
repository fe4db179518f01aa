package dynamodb_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	client, table := newTable(t, "metrics")
	storetest.RunMetrics(t, "dynamodb", func(t *testing.T, reg prometheus.Registerer) store.Store {
		return open(t, client, table, dynamodb.Options{Registerer: reg})
	})
}
