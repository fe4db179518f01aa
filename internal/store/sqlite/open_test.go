package sqlite_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/sqlite"
)

func TestOpenRefusesNonDatabase(t *testing.T) {
	t.Parallel()
	// A page of junk after a valid header: the header check passes and SQLite itself objects.
	badPages := append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xA5}, 4080)...)
	tests := []struct {
		name    string
		content []byte
	}{
		{"text", []byte("pools:\n  - name: linux\n    max: 10\n")},
		{"short", []byte("SQL")},
		{"binary", bytes.Repeat([]byte{0x00, 0xFF}, 2048)},
		{"valid header, junk pages", badPages},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.db")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open of a non-database: got nil error")
			}
			if !errors.Is(err, sqlite.ErrNotDatabase) {
				t.Errorf("Open of a non-database: got %v, want ErrNotDatabase", err)
			}
			after, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if !bytes.Equal(after, tc.content) {
				t.Errorf("file changed by a failed Open: got %d bytes, want the original %d", len(after), len(tc.content))
			}
		})
	}
}

func TestOpenRejectsBadArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts sqlite.Options
	}{
		{"empty path", "", sqlite.Options{}},
		{"in-memory", ":memory:", sqlite.Options{}},
		{"URI", "file:" + filepath.Join(dir, "a.db"), sqlite.Options{}},
		{"question mark", filepath.Join(dir, "a?.db"), sqlite.Options{}},
		{"directory", dir, sqlite.Options{}},
		{"unknown synchronous", filepath.Join(dir, "b.db"), sqlite.Options{Synchronous: "OFF"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if s, err := sqlite.Open(t.Context(), tc.path, tc.opts); err == nil {
				_ = s.Close()
				t.Errorf("Open(%q, %+v): got nil error, want an error", tc.path, tc.opts)
			}
		})
	}
}

func TestFileIsWAL(t *testing.T) {
	t.Parallel()
	for _, sync := range []string{"", "full"} {
		s, path := openTemp(t, sqlite.Options{Synchronous: sync})
		if err := s.CreateAgent(t.Context(), store.AgentRecord{Name: "a", Pool: "p", State: store.StateLaunching}); err != nil {
			t.Fatalf("CreateAgent: %v", err)
		}
		if _, err := os.Stat(path + "-wal"); err != nil {
			t.Errorf("synchronous %q: write-ahead log beside the open database: %v", sync, err)
		}
		// journal_mode=wal is recorded in the file, so any later reader sees it.
		var mode string
		if err := rawDB(t, path).QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatalf("PRAGMA journal_mode: %v", err)
		}
		if mode != "wal" {
			t.Errorf("synchronous %q: journal_mode: got %q, want wal", sync, mode)
		}
	}
}

func TestOpenCreatesParentDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "var", "lib", "adofleet", "state.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
	if got := s.Path(); got != path {
		t.Errorf("Path: got %q, want %q", got, path)
	}
}

// TestTwoStoresOneFile stands in for two processes on one file (serve and a gc run): each store
// has its own writer connection, so only BEGIN IMMEDIATE and busy_timeout keep them from
// failing with SQLITE_BUSY or losing updates.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	a, path := openTemp(t, sqlite.Options{})
	b, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer b.Close()
	ctx := t.Context()
	if err := a.CreateAgent(ctx, store.AgentRecord{Name: "counter", Pool: "p", State: store.StateRegistered}); err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	const perStore, each = 3, 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	key := store.CallbackKey{PlanID: "plan", JobID: "job", TaskInstanceID: "task"}
	for _, s := range []*sqlite.Store{a, b} {
		for range perStore {
			wg.Go(func() {
				if ok, err := s.ClaimCallback(ctx, key, "succeeded", base); err != nil {
					t.Errorf("ClaimCallback: %v", err)
				} else if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
				for i := 0; i < each; {
					cur, err := s.GetAgent(ctx, "counter")
					if err != nil {
						t.Errorf("GetAgent: %v", err)
						return
					}
					cur.JobRequestID++
					if _, err := s.UpdateAgent(ctx, cur); errors.Is(err, store.ErrConflict) {
						continue
					} else if err != nil {
						t.Errorf("UpdateAgent: %v", err)
						return
					}
					i++
				}
			})
		}
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("claims won across two stores: got %d, want 1", wins)
	}
	got, err := b.GetAgent(ctx, "counter")
	if err != nil {
		t.Fatalf("GetAgent: %v", err)
	}
	if want := int64(2 * perStore * each); got.JobRequestID != want {
		t.Errorf("counter: got %d, want %d", got.JobRequestID, want)
	}
}
