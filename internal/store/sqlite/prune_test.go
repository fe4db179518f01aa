package sqlite_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/store/sqlite"
	"github.com/adofleet/adofleet/internal/store/storetest"
)

func TestPrune(t *testing.T) {
	t.Parallel()
	storetest.RunPrune(t, func(t *testing.T, _ string) storetest.Pruner {
		s, _ := openTemp(t, sqlite.Options{})
		return s
	})
}
