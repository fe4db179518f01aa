//go:build !crashpoints

package crashpoint_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/crashpoint"
)

// TestHitIsANoOpWithoutTheTag: a production build survives even when the variable names a point.
func TestHitIsANoOpWithoutTheTag(t *testing.T) {
	t.Setenv(crashpoint.EnvVar, "launch.after-intent")
	for range 3 {
		crashpoint.Hit("launch.after-intent")
	}
	if crashpoint.Enabled {
		t.Error("Enabled = true in a build without -tags crashpoints")
	}
}
