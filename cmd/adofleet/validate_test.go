package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func asExit(err error, ec *exitCodeError) bool { return errors.As(err, ec) }

func TestValidateAcceptsTheExample(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(context.Background(), "validate", "-c", "../../examples/adofleet.yaml")
	if err != nil {
		t.Fatalf("validate examples/adofleet.yaml: %v", err)
	}
	if !strings.Contains(out, "ok") {
		t.Errorf("output %q, want ok", out)
	}
}

// TestValidateReportsEveryError checks that one run lists each problem with its line and field.
func TestValidateReportsEveryError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := `organization:
  url: ftp://example.com
  pat: env:ADO_PAT
pools:
  - name: a
    provider: nope
    max: 0
    maxx: 3
`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(context.Background(), "validate", "-c", path)
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
	for _, want := range []string{
		"bad.yaml:2: organization.url",
		"bad.yaml:6: pools[0].provider",
		"bad.yaml:7: pools[0].max",
		"bad.yaml:8: pools[0].maxx: unknown field; did you mean max?",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
