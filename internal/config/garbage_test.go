package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/config"
)

// garbageHead is a valid start for the cases that break one field further down.
const garbageHead = `organization:
  url: https://dev.azure.com/contoso
  pat: env:ADO_PAT
providers:
  local:
    command: [./agent.sh]
`

// TestParseGarbage feeds Parse files that are not a config at all, or break YAML in ways the golden
// files do not: every one must come back as *config.Errors (never a panic, never a config) with a
// line naming the position and the field or the YAML problem.
func TestParseGarbage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want string // one line of the error
	}{
		{"binary", "\x00\x01\x02\xff\xfe", "x.yaml: invalid YAML: yaml: control characters are not allowed"},
		{"not UTF-8", garbageHead + "pools:\n  - name: \xff\xfe\n", "x.yaml: invalid YAML: yaml: invalid leading UTF-8 octet"},
		{"tab indentation", "organization:\n\turl: x\n", "x.yaml:2: invalid YAML: found character that cannot start any token"},
		{"unterminated quote", garbageHead + "pools:\n  - name: \"linux\n", "x.yaml:8: invalid YAML: found unexpected end of stream"},
		{"a list, not a mapping", "- organization\n- pools\n", "x.yaml:1: want a mapping, got a list"},
		{"a scalar, not a mapping", "adofleet", "x.yaml:1: want a mapping, got a single value"},
		{"HTML", "<html><body>404</body></html>", "x.yaml:1: want a mapping, got a single value"},
		{"integer overflow", garbageHead + "pools:\n  - name: a\n    provider: local\n    max: 99999999999999999999\n",
			`x.yaml:10: pools[0].max: want an integer, got "99999999999999999999"`},
		{"float for an integer", garbageHead + "pools:\n  - name: a\n    provider: local\n    max: 1.5\n",
			`x.yaml:10: pools[0].max: want an integer, got "1.5"`},
		{"duration overflow", garbageHead + "pools:\n  - name: a\n    provider: local\n    max: 1\n    idleTimeout: 9999999999h\n",
			`x.yaml:11: pools[0].idleTimeout: invalid duration "9999999999h"`},
		{"mapping for a string", garbageHead + "    env: {A: {b: 1}}\npools:\n  - name: a\n    provider: local\n    max: 1\n",
			"x.yaml:7: providers.local.env.A: want a string, got a mapping"},
		{"complex key", garbageHead + "? [a, b]\n: c\n", "x.yaml:7: mapping keys must be strings, got a list"},
		{"empty key", garbageHead + "\"\": 1\n", `x.yaml:7: "": unknown field; known fields:`},
		{"merge key", garbageHead + "pools:\n  - <<: {max: 1}\n    name: a\n", "x.yaml:8: pools[0]: YAML merge keys (<<) are not supported"},
		{"recursive alias", garbageHead + "pools: &p [*p]\n", "x.yaml:7: pools[0]: want a mapping, got a list"},
		{"alias of a list for a pool", garbageHead + "pools:\n  - &l [1, 2]\n  - *l\n", "x.yaml:9: pools[1]: want a mapping, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse("x.yaml", []byte(tt.data))
			if cfg != nil {
				t.Errorf("Parse returned a config: %+v", cfg)
			}
			var errs *config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error is %T (%v), want *config.Errors", err, err)
			}
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				found = found || strings.HasPrefix(line, tt.want)
			}
			if !found {
				t.Errorf("errors:\n%s\nhave no line starting %q", err, tt.want)
			}
		})
	}
}

// TestLoadUnreadable: a path that is not a readable file is a plain error naming the path, not a
// list of config errors.
func TestLoadUnreadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, path := range []string{dir, filepath.Join(dir, "missing.yaml")} {
		cfg, err := config.Load(path)
		if err == nil || cfg != nil {
			t.Fatalf("Load(%s) = %v, %v; want an error and no config", path, cfg, err)
		}
		var errs *config.Errors
		if errors.As(err, &errs) {
			t.Errorf("Load(%s) error is *config.Errors, want a plain read error: %v", path, err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%s) error %q does not name the path", path, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load created the missing file: %v", err)
	}
}
