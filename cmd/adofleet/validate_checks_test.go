package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChecksGuideConfigIsValid validates the config shown in docs/checks.md (step 1), so the guide
// cannot drift from the config's field names.
func TestChecksGuideConfigIsValid(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### 1. The adofleet config")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/checks.md has no yaml block under step 1")
	}
	if !strings.Contains(block, "checks:") || !strings.Contains(block, "enabled: true") {
		t.Fatalf("the guide's config does not enable checks:\n%s", block)
	}
	path := filepath.Join(t.TempDir(), "checks-guide.yaml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runCLI(context.Background(), "validate", "-c", path)
	if err != nil {
		t.Fatalf("validate the guide's config: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "ok") {
		t.Errorf("validate output: got %q, want ok", out)
	}
}
