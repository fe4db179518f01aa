package dynamodb_test

import (
	"context"
	"fmt"
	"os"
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
)

func TestMain(m *testing.M) {
	emu, emuErr = dynalitetest.Start(context.Background())
	code := m.Run()
	emu.Close()
	os.Exit(code)
}

// newTable creates a table named after the test and key and returns a client for it.
func newTable(t *testing.T, name string) dynamodb.API {
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
	storetest.Run(t, func(t *testing.T, key string) store.Store {
		table := fmt.Sprintf("conformance-%s", key)
		return open(t, newTable(t, table), table, dynamodb.Options{})
	})
}
