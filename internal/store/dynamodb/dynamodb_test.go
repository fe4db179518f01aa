package dynamodb_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
	"github.com/adofleet/adofleet/internal/store/dynamodb/dynalitetest"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

// One emulator for the whole test binary; every test gets its own table.
var (
	emu    *dynalitetest.Server
	emuErr error
	// tables numbers the tables, so repeated runs (-count) never meet an old one: the emulator
	// outlives each run.
	tables atomic.Int64
)

func TestMain(m *testing.M) {
	emu, emuErr = dynalitetest.Start(context.Background())
	code := m.Run()
	emu.Close()
	os.Exit(code)
}

// newTable creates a new table whose name starts with prefix, and returns a client and the name.
func newTable(t *testing.T, prefix string) (dynamodb.API, string) {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, tables.Add(1))
	return ensureTable(t, name), name
}

// ensureTable creates the table name if it does not exist, and returns a client for it.
func ensureTable(t *testing.T, name string) dynamodb.API {
	t.Helper()
	client := dynalitetest.Require(t, emu, emuErr).Client()
	if err := dynamodb.EnsureTable(t.Context(), client, name, nil); err != nil {
		t.Fatalf("EnsureTable(%q): %v", name, err)
	}
	return client
}

// open opens a store on table with opts, failing the test on error.
func open(t *testing.T, client dynamodb.API, table string, opts dynamodb.Options) *dynamodb.Store {
	t.Helper()
	opts.Table, opts.Client = table, client
	s, err := dynamodb.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", table, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dynalitetest.Require(t, emu, emuErr)
	run := tables.Add(1)
	storetest.Run(t, func(t *testing.T, key string) store.Store {
		table := fmt.Sprintf("conformance-%d-%s", run, key) // the same for a reopen of key
		return open(t, ensureTable(t, table), table, dynamodb.Options{})
	})
}
