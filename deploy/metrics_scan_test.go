package deploy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// registeredMetric is one metric the code defines: its full name, its kind and its labels.
type registeredMetric struct {
	Name   string
	Kind   string // counter, gauge, histogram, summary, untyped (a custom collector's Desc)
	Labels []string
	// OpenLabels: the constant labels are not literals (storemetrics' backend), so the label
	// check accepts any label on this metric.
	OpenLabels bool
	At         string // file:line, for messages
}

// scanMetrics reads every non-test Go file under internal/ and cmd/ and collects the metrics the
// code defines: prometheus.XxxOpts literals with their namespace, subsystem and name, the label
// list passed to NewXxxVec with them, and prometheus.NewDesc calls of custom collectors. Reading
// the source finds every metric, where a registry only shows the vectors that have been used.
// TestMetricScanMatchesRegistry checks the reading against collectors built by the packages.
func scanMetrics(t *testing.T) map[string]registeredMetric {
	t.Helper()
	root := repoRoot(t)
	out := map[string]registeredMetric{}
	fset := token.NewFileSet()
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				// Test helper packages (storetest, leadertest, ...) register test-only metrics.
				if d.Name() == "testdata" || strings.HasSuffix(d.Name(), "test") || d.Name() == "fake" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if m, ok := metricFromCall(call); ok {
					rel, _ := filepath.Rel(root, path)
					m.At = rel + ":" + strconv.Itoa(fset.Position(call.Pos()).Line)
					out[m.Name] = m
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// metricFromCall recognises prometheus.NewCounter(Vec), NewGauge(Vec), NewHistogram(Vec),
// NewSummary(Vec) and NewDesc.
func metricFromCall(call *ast.CallExpr) (registeredMetric, bool) {
	fn := selectorName(call.Fun, "prometheus")
	if fn == "NewDesc" && len(call.Args) >= 3 {
		name, ok := stringLit(call.Args[0])
		if !ok {
			return registeredMetric{}, false
		}
		labels, closed := stringList(call.Args[2])
		open := !closed || len(call.Args) > 3 && !isNil(call.Args[3])
		return registeredMetric{Name: name, Kind: "untyped", Labels: labels, OpenLabels: open}, true
	}
	kind, vec := "", false
	switch fn {
	case "NewCounter", "NewCounterVec":
		kind = "counter"
	case "NewGauge", "NewGaugeVec":
		kind = "gauge"
	case "NewHistogram", "NewHistogramVec":
		kind = "histogram"
	case "NewSummary", "NewSummaryVec":
		kind = "summary"
	default:
		return registeredMetric{}, false
	}
	vec = strings.HasSuffix(fn, "Vec")
	if len(call.Args) == 0 {
		return registeredMetric{}, false
	}
	lit, ok := call.Args[0].(*ast.CompositeLit)
	if !ok {
		return registeredMetric{}, false
	}
	var ns, sub, name string
	m := registeredMetric{Kind: kind}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, _ := kv.Key.(*ast.Ident)
		if key == nil {
			continue
		}
		switch key.Name {
		case "Namespace":
			ns, _ = stringLit(kv.Value)
		case "Subsystem":
			sub, _ = stringLit(kv.Value)
		case "Name":
			name, _ = stringLit(kv.Value)
		case "ConstLabels":
			keys, closed := mapKeys(kv.Value)
			m.Labels = append(m.Labels, keys...)
			m.OpenLabels = m.OpenLabels || !closed
		}
	}
	if name == "" {
		return registeredMetric{}, false
	}
	m.Name = prometheus.BuildFQName(ns, sub, name)
	if vec && len(call.Args) > 1 {
		labels, closed := stringList(call.Args[1])
		m.Labels = append(m.Labels, labels...)
		m.OpenLabels = m.OpenLabels || !closed
	}
	return m, true
}

func selectorName(e ast.Expr, pkg string) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
		return sel.Sel.Name
	}
	return ""
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// stringList reads []string{"a", "b"}; closed is false when it is anything else (a variable).
func stringList(e ast.Expr) (out []string, closed bool) {
	if isNil(e) {
		return nil, true
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, false
	}
	for _, el := range lit.Elts {
		s, ok := stringLit(el)
		if !ok {
			return out, false
		}
		out = append(out, s)
	}
	return out, true
}

// mapKeys reads prometheus.Labels{"k": v}; closed is false when it is not a literal.
func mapKeys(e ast.Expr) (out []string, closed bool) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return nil, isNil(e)
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return out, false
		}
		s, ok := stringLit(kv.Key)
		if !ok {
			return out, false
		}
		out = append(out, s)
	}
	return out, true
}

func isNil(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "nil"
}
