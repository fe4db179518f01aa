package adosim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// specSchemas turns the OpenAPI 2 definitions kept in testdata into one JSON Schema (2020-12)
// document: wire overrides applied, allOf inheritance flattened, $refs rewritten to $defs, and
// every object with declared properties closed (additionalProperties: false), so a field the
// simulator sends that ADO's spec does not declare fails the test. Each definition X also gets a
// "Collection_X" for the {count, value} wrapper.
type specSchemas struct {
	compiler *jsonschema.Compiler
	cache    map[string]*jsonschema.Schema
}

const specURL = "mem://adosim/spec.json"

func loadSpecSchemas(t *testing.T) *specSchemas {
	t.Helper()
	var excerpt struct {
		Definitions map[string]any `json:"definitions"`
	}
	var overrides struct {
		Definitions map[string]any `json:"definitions"`
		Collection  map[string]any `json:"collection"`
	}
	readJSON(t, "taskagent-definitions.json", &excerpt)
	readJSON(t, "wire-overrides.json", &overrides)
	defs := excerpt.Definitions
	for name, d := range overrides.Definitions {
		if _, ok := defs[name]; !ok {
			t.Fatalf("override for %s, which the excerpt does not define", name)
		}
		defs[name] = d
	}
	out := map[string]any{}
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		flat, err := flatten(defs, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = convert(flat)
		coll := deepCopy(overrides.Collection).(map[string]any)
		coll["properties"].(map[string]any)["value"].(map[string]any)["items"] = map[string]any{"$ref": "#/$defs/" + name}
		out["Collection_"+name] = coll
	}
	doc := map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": out}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(specURL, parsed); err != nil {
		t.Fatal(err)
	}
	return &specSchemas{compiler: c, cache: map[string]*jsonschema.Schema{}}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

// flatten merges the properties of allOf'd definitions into the definition itself.
func flatten(defs map[string]any, name string, depth int) (map[string]any, error) {
	if depth > 10 {
		return nil, fmt.Errorf("allOf chain too deep at %s", name)
	}
	d, ok := defs[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("definition %s missing", name)
	}
	d = deepCopy(d).(map[string]any)
	all, ok := d["allOf"].([]any)
	if !ok {
		return d, nil
	}
	delete(d, "allOf")
	props, _ := d["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	for _, item := range all {
		ref, _ := item.(map[string]any)["$ref"].(string)
		base, err := flatten(defs, strings.TrimPrefix(ref, "#/definitions/"), depth+1)
		if err != nil {
			return nil, err
		}
		baseProps, _ := base["properties"].(map[string]any)
		for k, v := range baseProps {
			if _, own := props[k]; !own {
				props[k] = v
			}
		}
	}
	d["properties"] = props
	return d, nil
}

// convert rewrites one schema node from OpenAPI 2 to JSON Schema 2020-12.
func convert(v any) any {
	switch n := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range n {
			switch {
			case k == "$ref":
				out[k] = strings.Replace(val.(string), "#/definitions/", "#/$defs/", 1)
			case k == "format":
				// Only the formats JSON Schema knows; int32, JTokenType and the like are .NET names.
				if f := val.(string); f == "date-time" || f == "uuid" {
					out[k] = f
				}
			case k == "properties":
				props := map[string]any{}
				for pk, pv := range val.(map[string]any) {
					props[pk] = convert(pv)
				}
				out[k] = props
			default:
				out[k] = convert(val)
			}
		}
		if _, hasProps := out["properties"]; hasProps {
			if _, set := out["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, x := range n {
			out[i] = convert(x)
		}
		return out
	}
	return v
}

func deepCopy(v any) any {
	data, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

// validateErr checks a JSON document against the named definition (or "Collection_" + name).
func validateErr(t *testing.T, s *specSchemas, def string, body []byte) error {
	t.Helper()
	sch, ok := s.cache[def]
	if !ok {
		var err error
		sch, err = s.compiler.Compile(specURL + "#/$defs/" + def)
		if err != nil {
			t.Fatalf("compile %s: %v", def, err)
		}
		s.cache[def] = sch
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// validate reports a response that does not match the named definition.
func (s *specSchemas) validate(t *testing.T, def string, body []byte) {
	t.Helper()
	if err := validateErr(t, s, def, body); err != nil {
		t.Errorf("response does not match %s:\n%v\nbody: %s", def, err, body)
	}
	if strings.HasPrefix(def, "Collection_") {
		var c struct {
			Count int               `json:"count"`
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(body, &c); err == nil && c.Count != len(c.Value) {
			t.Errorf("%s: count %d but %d values", def, c.Count, len(c.Value))
		}
	}
}
