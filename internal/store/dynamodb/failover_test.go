package dynamodb_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/leader/leadertest"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/store/dynamodb"
)

// TestFailover: two controllers, each with its own client and store, share a leader lease in one
// table; the leader crashes and the other takes over, its late writes fenced off.
func TestFailover(t *testing.T) {
	t.Parallel()
	_, table := newTable(t, "failover")
	leadertest.RunFailover(t, func(t *testing.T) store.Store {
		return open(t, ensureTable(t, table), table, dynamodb.Options{})
	})
}
