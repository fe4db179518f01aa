package notify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

// TestEveryEventTypeIsKnown reads event.go's EventType constants, so a type added there without
// an entry in EventTypes (config validation, globs) and a default template fails here.
func TestEveryEventTypeIsKnown(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "EventType" {
			for _, name := range vs.Names {
				declared = append(declared, name.Name)
			}
		}
		return true
	})
	if len(declared) < 9 {
		t.Fatalf("found only %d EventType constants in event.go: %v", len(declared), declared)
	}
	if got, want := len(EventTypes), len(declared); got != want {
		t.Errorf("EventTypes has %d types, event.go declares %d: %v", got, want, declared)
	}
	for _, et := range EventTypes {
		if _, ok := defaultTemplates[et]; !ok {
			t.Errorf("%s has no default template", et)
		}
	}
	if slices.Contains(EventTypes, "") {
		t.Error("EventTypes holds an empty type")
	}
}
