package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/adofleet/adofleet/internal/leader/leadertest"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

// TestFailover: two controllers on one host, each with its own connections to one file, share a
// leader lease; the leader crashes and the other takes over, its late writes fenced off.
func TestFailover(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	leadertest.RunFailover(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
