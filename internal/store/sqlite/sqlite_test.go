package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // made once, so a key opened twice is the same file
	storetest.Run(t, func(t *testing.T, key string) store.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(dir, key+".db"), sqlite.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// openTemp opens a new store in a fresh directory and closes it when the test ends.
func openTemp(t *testing.T, opts sqlite.Options) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// base is an arbitrary whole-millisecond instant for test records.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
