package config_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/adofleet/adofleet/internal/config"
)

const schemaFile = "../../docs/config.schema.json"

func TestCommittedSchemaIsCurrent(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(committed), string(config.Schema())); diff != "" {
		t.Errorf("docs/config.schema.json is stale; run go generate ./internal/config (-committed +generated):\n%s", diff)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(config.Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("config.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("config.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

// yamlInstance turns YAML into the JSON value a schema validator sees.
func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func TestExamplesValidateAgainstSchema(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no examples/*.yaml")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(yamlInstance(t, data)); err != nil {
			t.Errorf("%s does not validate against the schema: %v", f, err)
		}
	}
}

// TestSchemaRejects checks that the schema carries the rules it can express, so editors flag them.
func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	base := "organization: {url: https://dev.azure.com/c, pat: env:ADO_PAT}\n" +
		"providers: {local: {command: [a]}}\n"
	tests := map[string]string{
		"unknown field":       base + "pools: [{name: p, provider: local, max: 1, maxx: 2}]",
		"literal secret":      strings.Replace(base, "env:ADO_PAT", "q7xk2mzp4vd9wr3fn8ht6yc5ja", 1) + "pools: [{name: p, provider: local, max: 1}]",
		"both credentials":    strings.Replace(base, "pat: env:ADO_PAT", "pat: env:A, bearerToken: env:B", 1) + "pools: [{name: p, provider: local, max: 1}]",
		"no max":              base + "pools: [{name: p, provider: local}]",
		"max 0":               base + "pools: [{name: p, provider: local, max: 0}]",
		"no pools":            base + "pools: []",
		"bad duration":        base + "pools: [{name: p, provider: local, max: 1, idleTimeout: 5 minutes}]",
		"bad log level":       base + "controller: {logLevel: verbose}\npools: [{name: p, provider: local, max: 1}]",
		"empty command":       strings.Replace(base, "[a]", "[]", 1) + "pools: [{name: p, provider: local, max: 1}]",
		"listen with no port": base + "web: {listen: localhost}\npools: [{name: p, provider: local, max: 1}]",
	}
	ok := base + "pools: [{name: p, provider: local, max: 1, idleTimeout: 1m30s}]"
	if err := s.Validate(yamlInstance(t, []byte(ok))); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	for name, data := range tests {
		if err := s.Validate(yamlInstance(t, []byte(data))); err == nil {
			t.Errorf("%s: schema accepted\n%s", name, data)
		}
	}
}

// schemaPaths lists every field path the schema describes, as docs/config.md names them
// (pools[].max, store.sqlite.path).
func schemaPaths(t *testing.T) []string {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(config.Schema(), &root); err != nil {
		t.Fatal(err)
	}
	defs := root["$defs"].(map[string]any)
	var paths []string
	var walk func(s map[string]any, prefix string)
	walk = func(s map[string]any, prefix string) {
		if ref, ok := s["$ref"].(string); ok {
			s = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(items, prefix+"[]")
			return
		}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			path := strings.TrimPrefix(prefix+"."+name, ".")
			paths = append(paths, path)
			walk(p.(map[string]any), path)
		}
	}
	walk(root, "")
	slices.Sort(paths)
	return paths
}

func TestDocsDescribeEveryField(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	paths := schemaPaths(t)
	if len(paths) < 30 {
		t.Fatalf("schema walk found only %d paths: %v", len(paths), paths)
	}
	for _, p := range paths {
		if !bytes.Contains(doc, []byte("`"+p+"`")) {
			t.Errorf("docs/config.md does not describe `%s`", p)
		}
	}
}
