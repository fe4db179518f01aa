package postgres_test

import (
	"os"
	"testing"

	"github.com/adofleet/adofleet/internal/store/postgres"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

// BenchmarkVMLifecycle is lifecycle events into PostgreSQL (storetest.BenchVMLifecycle), on the
// throwaway server TestMain starts (or ADOFLEET_TEST_POSTGRES_URL), over its unix socket.
func BenchmarkVMLifecycle(b *testing.B) {
	switch {
	case server.skip != "" && os.Getenv("CI") != "":
		b.Fatalf("no PostgreSQL server for the benchmark (CI is set): %s", server.skip)
	case server.skip != "":
		b.Skipf("no PostgreSQL server for the benchmark: %s", server.skip)
	case server.err != nil:
		b.Fatalf("start the test PostgreSQL server: %v", server.err)
	}
	s, err := postgres.Open(b.Context(), server.url, postgres.Options{Schema: remember("adofleet_bench_" + runID)})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	storetest.BenchVMLifecycle(b, s)
}
