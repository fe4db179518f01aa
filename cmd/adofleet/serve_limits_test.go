package main

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/web"
)

// TestServeRefusesOversizedBodies runs `adofleet serve` with the checks webhook and service hooks
// on the dashboard's listener and posts, authenticated, a body just over each endpoint's own
// limit and one over the listener's: every one gets 413, a dashboard route included.
func TestServeRefusesOversizedBodies(t *testing.T) {
	const pat = "serve-limits-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_LIMITS_PAT", pat)
	t.Setenv("ADOFLEET_TEST_LIMITS_SECRET", "serve-limits-secret")
	h := newSimHarness(t, "build", adosim.ServerOptions{PAT: pat})
	cfgPath := h.writeConfig(t, `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_LIMITS_PAT
controller:
  id: serve-limits-test
  resync: 300ms
store:
  sqlite:
    path: {state}
web:
  listen: 127.0.0.1:0
checks:
  enabled: true
  sharedSecret: env:ADOFLEET_TEST_LIMITS_SECRET
  maxBodyBytes: 4096
hooks:
  enabled: true
  sharedSecret: env:ADOFLEET_TEST_LIMITS_SECRET
{localAgents}
pools:
  - name: build
    provider: local
    max: 1
`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := startServe(t, ctx, cfgPath)
	base := run.dashboardURL(t, ctx)

	tests := []struct {
		name, path string
		size       int64
		wantText   string
	}{
		{"checks, over its own limit", "/v1/checks/build", 4097, "larger than 4096 bytes"},
		{"checks, over the listener's", "/v1/checks/build", web.MaxRequestBodyBytes + 1, "larger than"},
		{"hooks, over its own limit", "/v1/hooks/ado", 512<<10 + 1, "larger than 524288 bytes"},
		{"hooks, over the listener's", "/v1/hooks/ado", web.MaxRequestBodyBytes + 1, "larger than"},
		{"dashboard", "/api/status", web.MaxRequestBodyBytes + 1, "larger than"},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+tt.path, io.LimitReader(zeroReader{}, tt.size))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = tt.size
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Adofleet-Secret", "serve-limits-secret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			// The server may close the connection while the client still writes the rest.
			t.Errorf("%s: POST %d bytes: %v", tt.name, tt.size, err)
			continue
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), tt.wantText) {
			t.Errorf("%s: got %d %q, want 413 saying %q", tt.name, res.StatusCode, body, tt.wantText)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// serverBounds are the http.Server fields every server adofleet runs must set, so that a slow or
// hostile client can hold neither a connection nor memory.
var serverBounds = []string{"ReadHeaderTimeout", "ReadTimeout", "WriteTimeout", "IdleTimeout", "MaxHeaderBytes"}

// TestEveryHTTPServerIsBounded reads the source of cmd/ and internal/ (tests and the AWS fakes'
// httptest servers aside) and checks that every http.Server literal sets serverBounds and that
// nothing serves through http.ListenAndServe or http.Serve, whose servers have no bounds.
func TestEveryHTTPServerIsBounded(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	servers := 0
	for _, root := range []string{"../../cmd", "../../internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasSuffix(d.Name(), "fake")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CompositeLit:
					if !isHTTPSel(n.Type, "Server") {
						return true
					}
					servers++
					var set []string
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							if id, ok := kv.Key.(*ast.Ident); ok {
								set = append(set, id.Name)
							}
						}
					}
					for _, b := range serverBounds {
						if !slices.Contains(set, b) {
							t.Errorf("%s: http.Server without %s", fset.Position(n.Pos()), b)
						}
					}
				case *ast.CallExpr:
					if isHTTPSel(n.Fun, "ListenAndServe") || isHTTPSel(n.Fun, "ListenAndServeTLS") || isHTTPSel(n.Fun, "Serve") {
						t.Errorf("%s: serves with an unbounded default server; use web.NewHTTPServer", fset.Position(n.Pos()))
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if servers == 0 {
		t.Fatal("found no http.Server literal: the walk is looking in the wrong place")
	}
}

// isHTTPSel reports whether e is http.<name>.
func isHTTPSel(e ast.Expr, name string) bool {
	if u, ok := e.(*ast.UnaryExpr); ok {
		e = u.X
	}
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "http"
}
