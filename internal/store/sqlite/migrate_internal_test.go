package sqlite

import (
	"testing"

	"github.com/adofleet/adofleet/internal/store/storemigrate"
)

// The embedded set is what ships: it must load and carry SQL. (How files are read and ordered
// is storemigrate's, and tested there.)
func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	ms, err := storemigrate.Load(migrationFiles)
	if err != nil {
		t.Fatalf("Load(embedded): %v", err)
	}
	if len(ms) < 2 {
		t.Fatalf("embedded migrations: got %d, want at least 2", len(ms))
	}
	for _, m := range ms {
		if m.SQL == "" || m.Name == "" {
			t.Errorf("migration %d: empty name or SQL", m.Version)
		}
	}
}
