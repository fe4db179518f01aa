package postgres_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	url := serverURL(t)
	// Each key is its own schema in the one database, so reopening a key finds its data.
	storetest.Run(t, func(t *testing.T, key string) store.Store {
		s, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schemaFor(t, "conf_"+key)})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// openTemp opens a store on a fresh schema and closes it when the test ends.
func openTemp(t *testing.T, key string, opts postgres.Options) *postgres.Store {
	t.Helper()
	opts.Schema = schemaFor(t, key)
	s, err := postgres.Open(t.Context(), serverURL(t), opts)
	if err != nil {
		t.Fatalf("Open(schema %q): %v", opts.Schema, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
