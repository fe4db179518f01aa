package config

import (
	"reflect"
	"testing"
)

// TestFieldDocsMatchStructs keeps the fieldDocs table and the structs in step: every field has a
// description, and every entry names a field that exists.
func TestFieldDocsMatchStructs(t *testing.T) {
	t.Parallel()
	fields := map[string]bool{}
	types := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == durationType || types[rt.Name()] {
			return
		}
		types[rt.Name()] = true
		for i := range rt.NumField() {
			f := rt.Field(i)
			if name := yamlName(f); name != "" {
				fields[rt.Name()+"."+name] = true
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[Config]())
	for k := range fields {
		if fieldDocs[k].doc == "" {
			t.Errorf("field %s has no description in fieldDocs", k)
		}
	}
	for k := range fieldDocs {
		if !fields[k] {
			t.Errorf("fieldDocs has %s, which is no field", k)
		}
	}
	for k := range types {
		if typeDocs[k] == "" {
			t.Errorf("type %s has no description in typeDocs", k)
		}
	}
	for k := range typeDocs {
		if !types[k] {
			t.Errorf("typeDocs has %s, which is no config type", k)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := []string{"name", "provider", "min", "max", "idleTimeout", "capabilities"}
	for key, want := range map[string]string{
		"maxx":        "did you mean max?",
		"IdleTimeout": "did you mean idleTimeout?",
		"capabilites": "did you mean capabilities?",
		"provder":     "did you mean provider?",
		"colour":      "known fields: name, provider, min, max, idleTimeout, capabilities",
		"x":           "known fields: name, provider, min, max, idleTimeout, capabilities",
	} {
		if got := suggest(key, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}
