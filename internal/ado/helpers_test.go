package ado_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/adofleet/adofleet/internal/ado"
)

const testPAT = "pat-SECRET-7f3c9a1e-do-not-leak"

// seen is one request as the fake ADO received it.
type seen struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fakeADO is a loopback HTTP server standing in for ADO. reply answers the n-th request (0-based).
type fakeADO struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []seen
	reply func(w http.ResponseWriter, r *http.Request, n int)
}

func newFakeADO(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, n int)) *fakeADO {
	t.Helper()
	f := &fakeADO{reply: reply}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		f.reply(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeADO) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// orgURL is the fake organization's URL, as the simulator's http://127.0.0.1:PORT/ORG.
func (f *fakeADO) orgURL() string { return f.URL + "/fabrikam" }

// newClient builds a client for f with a PAT; edit adjusts the options.
func newClient(t *testing.T, f *fakeADO, edit func(*ado.Options)) *ado.Client {
	t.Helper()
	opts := ado.Options{OrgURL: f.orgURL(), PAT: testPAT, HTTPClient: f.Client()}
	if edit != nil {
		edit(&opts)
	}
	c, err := ado.New(opts)
	if err != nil {
		t.Fatalf("ado.New: %v", err)
	}
	return c
}

// writeJSON answers with status and a JSON body, as ADO does.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// adoError answers with ADO's WrappedException body.
func adoError(w http.ResponseWriter, status int, typeKey, message string) {
	b, _ := json.Marshal(map[string]any{
		"$id": "1", "innerException": nil, "message": message,
		"typeName": "Microsoft.TeamFoundation.DistributedTask.WebApi." + typeKey + ", Microsoft.TeamFoundation.DistributedTask.WebApi",
		"typeKey":  typeKey, "errorCode": 0, "eventId": 3000,
	})
	writeJSON(w, status, b)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// httpExample is one of the official httpExamples files.
type httpExample struct {
	Method     string `json:"x-ms-vss-request-method"`
	URL        string `json:"x-ms-vss-request-url"`
	Parameters struct {
		Body json.RawMessage `json:"body"`
	} `json:"parameters"`
	Responses map[string]struct {
		Body json.RawMessage `json:"body"`
	} `json:"responses"`
}

func readExample(t *testing.T, name string) httpExample {
	t.Helper()
	var ex httpExample
	if err := json.Unmarshal(readTestdata(t, filepath.Join("httpExamples", name)), &ex); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ex
}

// jsonValue decodes a JSON document for comparison with cmp.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return v
}

type jsonRaw = json.RawMessage

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal: %v: %s", err, b)
	}
}
