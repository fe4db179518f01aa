package config_test

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/fuzzseed"
)

// FuzzParse: whatever the file holds, Parse returns either a config that validates and survives
// a YAML round trip, or *config.Errors whose every entry names the file, a line inside it, and
// the field or the YAML problem. Never a panic, never both or neither.
func FuzzParse(f *testing.F) {
	fuzzseed.Files(f, func(data []byte) { f.Add(data) }, "../../examples/*.yaml", "testdata/bad/*.yaml")
	f.Add([]byte(garbageHead + "pools: &p [*p]\n"))
	f.Add([]byte(garbageHead + "pools:\n  - &l {name: a, provider: local, max: 1, env: &e {A: b}}\n  - *l\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("fuzz.yaml", data)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v: want exactly one", cfg != nil, err)
		}
		if err != nil {
			checkErrors(t, data, err)
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("a parsed config fails Validate:\n%v", err)
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal the parsed config: %v", err)
		}
		again, err := config.Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("the parsed config, written out, does not parse:\n%v\n--- written:\n%s", err, out)
		}
		// An empty list and an absent one mean the same (omitempty writes neither).
		if diff := cmp.Diff(cfg, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip changed the config (-first +again):\n%s", diff)
		}
	})
}

func checkErrors(t *testing.T, data []byte, err error) {
	t.Helper()
	var errs *config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T (%v), want *config.Errors", err, err)
	}
	if len(errs.List) == 0 {
		t.Fatal("*config.Errors with no entry")
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, e := range errs.List {
		if e.File != "fuzz.yaml" {
			t.Errorf("error %q names file %q, want fuzz.yaml", e, e.File)
		}
		if e.Line < 0 || e.Line > lines+1 {
			t.Errorf("error %q is on line %d of a %d-line file", e, e.Line, lines)
		}
		if e.Message == "" {
			t.Errorf("error %+v has no message", e)
		}
		// A field path, or a whole-file problem that says what was wrong or wanted.
		if e.Field == "" && !strings.HasPrefix(e.Message, "invalid YAML: ") && !strings.HasPrefix(e.Message, "want ") &&
			!strings.Contains(e.Message, "required") {
			t.Errorf("error %q names no field and says nothing of what was expected", e)
		}
	}
}

// TestParseCapsAliasExpansion: the decoder follows aliases itself (the YAML parser leaves them
// as references), so nested aliases in a small file could decode into millions of values. Past
// maxAliasedValues it stops with one error on the alias's line instead.
func TestParseCapsAliasExpansion(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(garbageHead + "    env: &e {")
	for i := range 200 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("K" + strconv.Itoa(i) + ": v")
	}
	b.WriteString("}\npools:\n  - &p {name: a, provider: local, max: 1, env: *e, capabilities: *e}\n")
	for range 500 { // 500 pools x 400 values: 200,000 through aliases
		b.WriteString("  - *p\n")
	}
	_, err := config.Parse("x.yaml", []byte(b.String()))
	var errs *config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error is %T (%v), want *config.Errors", err, err)
	}
	var alias []config.Error
	for _, e := range errs.List {
		if strings.Contains(e.Message, "aliases expand to more than") {
			alias = append(alias, e)
		}
	}
	if len(alias) != 1 || alias[0].Line < 8 || !regexp.MustCompile(`^pools\[\d+\]$`).MatchString(alias[0].Field) {
		t.Errorf("alias errors: got %+v, want one on a pools entry's line", alias)
	}
}
