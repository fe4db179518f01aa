package postgres_test

import (
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	url, prefix := serverURL(t), schemaFor(t, "conf")
	// Each key is its own schema in the one database, so reopening a key finds its data.
	storetest.Run(t, func(t *testing.T, key string) store.Store {
		s, err := postgres.Open(t.Context(), url, postgres.Options{Schema: remember(prefix + "_" + key)})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// openTemp opens a store on a fresh schema and closes it when the test ends.
func openTemp(t *testing.T, key string, opts postgres.Options) *postgres.Store {
	t.Helper()
	return openSchema(t, schemaFor(t, key), opts)
}

// base is an arbitrary whole-millisecond instant for test records.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
