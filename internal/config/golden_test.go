package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.golden from the current output")

// TestBadConfigsGolden parses each testdata/bad/*.yaml and compares every reported error, one per
// line, with the .golden file beside it. Each file exercises one validation rule or family.
func TestBadConfigsGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/bad/*.yaml: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Parse(filepath.Base(f), data)
			if err == nil {
				t.Fatalf("Parse: got nil error and config %+v, want errors", cfg)
			}
			var errs *config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error is %T, want *config.Errors: %v", err, err)
			}
			if cfg != nil {
				t.Errorf("Parse returned a config alongside errors")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if n := strings.Count(got, "\n"); n != len(errs.List) {
				t.Errorf("Error() has %d lines, want one per error (%d)", n, len(errs.List))
			}
		})
	}
}
