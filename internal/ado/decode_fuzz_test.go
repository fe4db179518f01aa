package ado

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/fuzzseed"
)

// fuzzSecret stands for the PAT: no error built from an answer may contain it.
const fuzzSecret = "fuzzpat0123456789abcdefSECRET"

// decodeTargets are the types the client decodes ADO's answers into (see the c.do calls).
var decodeTargets = []struct {
	name string
	new  func() any
}{
	{"listOf[Agent]", func() any { return new(listOf[Agent]) }},
	{"listOf[leanAgent]", func() any { return new(listOf[leanAgent]) }},
	{"listOf[JobRequest]", func() any { return new(listOf[JobRequest]) }},
	{"listOf[leanJobRequest]", func() any { return new(listOf[leanJobRequest]) }},
	{"listOf[Pool]", func() any { return new(listOf[Pool]) }},
	{"listOf[Environment]", func() any { return new(listOf[Environment]) }},
	{"listOf[VMResource]", func() any { return new(listOf[VMResource]) }},
	{"Agent", func() any { return new(Agent) }},
	{"VMResource", func() any { return new(VMResource) }},
	{"Pool", func() any { return new(Pool) }},
	{"taskLog", func() any { return new(taskLog) }},
}

// addJSONSeeds adds testdata's recorded answers and a few hand-made edge cases.
func addJSONSeeds(f *testing.F, add func(body []byte)) {
	f.Helper()
	fuzzseed.Files(f, add, filepath.Join("testdata", "*.json"))
	for _, s := range []string{
		`{"count":1,"value":[{"id":1,"name":"a","status":"online","createdOn":"2026-01-02T03:04:05.123Z"}]}`,
		`{"count":1,"value":[{"requestId":7,"queueTime":"2026-01-02T03:04:05Z","matchedAgents":[{"id":1}],"result":null}]}`,
		`{"ID":1,"NAME":"upper case keys","Name":"both"}`,
		`{"id":1e2}`, `{"id":1.0}`, `{"id":-0}`, `{"id":"1"}`, `{"value":null}`, `[]`, `"x"`, `null`, ``,
		`{"name":"\ud800"}`, "{\"name\":\"\xff\"}", `{"a":1}{"a":2}`, `{"id":1,"id":2}`,
		`{"value":[{"createdOn":"` + fuzzSecret + `"}]}`,
	} {
		add([]byte(s))
	}
}

// FuzzUnmarshalBody: the fast decoder (goccy/go-json) must be indistinguishable from
// encoding/json, the authority, on any answer: the same acceptance, the same value, and on a
// rejection encoding/json's error with nothing half-decoded left behind. The value must not
// share memory with the body either: the client reuses body buffers once decoded.
func FuzzUnmarshalBody(f *testing.F) {
	addJSONSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tt := range decodeTargets {
			got, want := tt.new(), tt.new()
			body := bytes.Clone(data)
			gotErr := unmarshalBody(body, got)
			for i := range body {
				body[i] = 'x' // as the next answer read into a reused buffer would
			}
			wantErr := json.Unmarshal(data, want)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s: unmarshalBody error %v, encoding/json error %v", tt.name, gotErr, wantErr)
			}
			if gotErr != nil && gotErr.Error() != wantErr.Error() {
				t.Fatalf("%s: got error %q, want encoding/json's %q", tt.name, gotErr, wantErr)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(leanJobRequest{})); diff != "" {
				t.Fatalf("%s: (-encoding/json +unmarshalBody):\n%s", tt.name, diff)
			}
		}
	})
}

// FuzzDecodeSuccess: a 2xx answer either decodes (exactly when encoding/json would accept it) or
// fails with an error that says it was the response's decoding and never repeats the credential.
func FuzzDecodeSuccess(f *testing.F) {
	addJSONSeeds(f, func(b []byte) { f.Add(b, "application/json; charset=utf-8") })
	f.Add([]byte("<html><title>x</title></html>"), "text/html")
	f.Add([]byte(`{"createdOn":"`+fuzzSecret+`"}`), "text/plain; x="+fuzzSecret)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, tt := range decodeTargets {
			res := &response{status: http.StatusOK, header: http.Header{"Content-Type": {contentType}}, body: body}
			out := tt.new()
			err := decodeSuccess(res, out, []string{fuzzSecret})
			trimmed := strings.TrimSpace(string(body))
			wantOK := trimmed != "" && trimmed != "null" && json.Unmarshal(body, tt.new()) == nil
			if (err == nil) != wantOK {
				t.Fatalf("%s: got error %v, want success %v", tt.name, err, wantOK)
			}
			if err == nil {
				continue
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "decode response: ") {
				t.Errorf("%s: error %q does not say it is the response's decoding", tt.name, msg)
			}
			if strings.Contains(err.Error(), fuzzSecret) {
				t.Fatalf("%s: error repeats the credential: %q", tt.name, err)
			}
		}
	})
}

// FuzzErrorAnswer: whatever a failed call's body holds, the *Error keeps the status, carries a
// bounded message free of the credential, and stays valid UTF-8 when the body was.
func FuzzErrorAnswer(f *testing.F) {
	f.Add(404, "application/json", []byte(`{"message":"Agent pool 3 not found","typeKey":"TaskAgentPoolNotFoundException"}`))
	f.Add(401, "text/html", []byte("<html><head><title>Sign in</title></head></html>"))
	f.Add(502, "text/html", []byte(gatewayPageSeed))
	f.Add(500, "text/plain", []byte(strings.Repeat("é", 400)))
	f.Add(500, "application/json", []byte(`{"message":"`+strings.Repeat("x", 2000)+`"}`))
	f.Add(400, "text/plain", []byte("token "+fuzzSecret+" rejected"))
	f.Add(429, "", []byte(nil))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		e := newError("list agents in pool 3", http.MethodGet, status, contentType, body, fuzzSecret)
		if e.Status != status || e.Call != "list agents in pool 3" || e.Method != http.MethodGet {
			t.Fatalf("got %+v, want the call, method and status %d kept", e, status)
		}
		if strings.Contains(e.Error(), fuzzSecret) || strings.Contains(e.TypeKey, fuzzSecret) {
			t.Fatalf("error repeats the credential: %q (typeKey %q)", e.Error(), e.TypeKey)
		}
		if n := utf8.RuneCountInString(e.Message); n > maxMessage+3 {
			t.Errorf("message is %d characters, want at most %d", n, maxMessage+3)
		}
		if utf8.Valid(body) && !utf8.ValidString(e.Message) {
			t.Errorf("message %q is not valid UTF-8 though the body was", e.Message)
		}
	})
}

const gatewayPageSeed = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center></body>\n</html>\n"
