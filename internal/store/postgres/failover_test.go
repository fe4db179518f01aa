package postgres_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/leader/leadertest"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/postgres"
)

// TestFailover: two controllers, each with its own connection pool on one schema, share a
// leader lease; the leader crashes and the other takes over, its late writes fenced off.
func TestFailover(t *testing.T) {
	t.Parallel()
	url, schema := serverURL(t), remember(schemaFor(t, "failover"))
	leadertest.RunFailover(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
