package dynamodb_test

import (
	"fmt"
	"testing"

	"github.com/adofleet/adofleet/internal/store/dynamodb"
	"github.com/adofleet/adofleet/internal/store/dynamodb/dynalitetest"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

// BenchmarkVMLifecycle is lifecycle events into DynamoDB (storetest.BenchVMLifecycle): the real
// store and AWS SDK against dynalite, the emulator TestMain starts, over loopback HTTP. The
// figures are the store's and the SDK's cost plus dynalite's (a Node.js process on LevelDB in
// memory), not DynamoDB's latency, which is a network round trip per call.
func BenchmarkVMLifecycle(b *testing.B) {
	client := dynalitetest.Require(b, emu, emuErr).Client()
	table := fmt.Sprintf("bench-%d", tables.Add(1))
	if err := dynamodb.EnsureTable(b.Context(), client, table, nil); err != nil {
		b.Fatalf("EnsureTable(%q): %v", table, err)
	}
	s, err := dynamodb.Open(b.Context(), dynamodb.Options{Table: table, Client: client})
	if err != nil {
		b.Fatalf("Open(%q): %v", table, err)
	}
	storetest.BenchVMLifecycle(b, s)
}
