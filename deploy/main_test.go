package deploy_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestMain lets the test binary act as the stub agent's config.sh and run.sh (see stubagent_test.go).
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "stub-agent" {
		os.Exit(stubAgentMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// repoRoot is the module root: this file's directory's parent.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Dir(filepath.Dir(file))
}
