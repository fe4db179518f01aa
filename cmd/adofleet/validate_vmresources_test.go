package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvironmentsGuideConfig validates the config shown in docs/environments.md (step 2) and
// renders the user data of each of its environments from it, so the guide cannot drift from the
// config's field names or from what `adofleet userdata` needs.
func TestEnvironmentsGuideConfig(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/environments.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### 2. The adofleet config")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/environments.md has no yaml block under step 2")
	}
	path := filepath.Join(t.TempDir(), "environments-guide.yaml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if out, stderr, err := runCLI(ctx, "validate", "-c", path); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("validate the guide's config: %v\n%s%s", err, out, stderr)
	}
	for _, env := range []string{"production", "staging"} {
		for _, goos := range []string{"linux", "windows"} {
			out, stderr, err := runCLI(ctx, "userdata", "-c", path, "--environment", env, "--os", goos)
			if err != nil || !strings.Contains(out, "--environmentname") {
				t.Errorf("userdata --environment %s --os %s: %v\n%s", env, goos, err, stderr)
			}
		}
	}
}
