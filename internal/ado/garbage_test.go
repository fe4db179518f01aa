package ado_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/ado"
)

// cutBody promises more bytes than it sends, so the client's read ends in unexpected EOF.
func cutBody(w http.ResponseWriter, partial string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(partial))
}

const gatewayPage = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center></body>\n</html>\n"

// TestGarbageAnswers: whatever a success or error body holds, a call fails with an error that names
// the call and what was wrong with the answer, returns no half-decoded data, and retries only what
// may be retried.
func TestGarbageAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		reply     func(w http.ResponseWriter)
		wantMsg   []string // substrings of the error
		notMsg    string   // must not appear in the error
		wantCalls int64
	}{{
		name:      "truncated JSON",
		reply:     func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"count":1,"value":[{"id":1,"na`)) },
		wantMsg:   []string{"ado: list agents in pool 3: decode response: unexpected end of JSON input"},
		wantCalls: 1,
	}, {
		name:      "wrong type for the list",
		reply:     func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"count":1,"value":"agents"}`)) },
		wantMsg:   []string{"decode response: json: cannot unmarshal string into", ".value of type []ado.leanAgent"},
		wantCalls: 1,
	}, {
		name: "wrong type in one field of a valid row",
		reply: func(w http.ResponseWriter) {
			writeJSON(w, 200, []byte(`{"count":1,"value":[{"id":1,"name":"a","status":5}]}`))
		},
		wantMsg:   []string{"decode response: json: cannot unmarshal number into Go struct field leanAgent.value.status of type ado.AgentStatus"},
		wantCalls: 1,
	}, {
		name: "bad timestamp",
		reply: func(w http.ResponseWriter) {
			writeJSON(w, 200, []byte(`{"count":1,"value":[{"id":1,"createdOn":"yesterday"}]}`))
		},
		wantMsg:   []string{"decode response: parsing time \"yesterday\""},
		wantCalls: 1,
	}, {
		name:      "trailing garbage",
		reply:     func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"count":0,"value":[]} <!-- cached -->`)) },
		wantMsg:   []string{"decode response: invalid character '<' after top-level value"},
		wantCalls: 1,
	}, {
		name:      "empty success body",
		reply:     func(w http.ResponseWriter) { writeJSON(w, 200, nil) },
		wantMsg:   []string{`ado: list agents in pool 3: decode response: HTTP 200 answer has no JSON document (Content-Type "application/json; charset=utf-8; api-version=7.1", 0 bytes)`},
		wantCalls: 1,
	}, {
		name:      "JSON null",
		reply:     func(w http.ResponseWriter) { writeJSON(w, 200, []byte("null\n")) },
		wantMsg:   []string{"decode response: HTTP 200 answer has no JSON document", "5 bytes"},
		wantCalls: 1,
	}, {
		name: "plain text",
		reply: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("OK"))
		},
		wantMsg:   []string{`decode response: answer is "text/plain; charset=utf-8", not JSON: invalid character 'O'`},
		wantCalls: 1,
	}, {
		name: "gateway HTML page is retried and not blamed on the PAT",
		reply: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(gatewayPage))
		},
		wantMsg:   []string{`ado: list agents in pool 3: 502 Bad Gateway: the answer is an HTML page titled "502 Bad Gateway", not ADO's JSON`},
		notMsg:    "PAT",
		wantCalls: 3, // MaxRetries 2
	}, {
		name:      "body cut off every time",
		reply:     func(w http.ResponseWriter) { cutBody(w, `{"count":2,"value":[{"id":1}`) },
		wantMsg:   []string{"ado: list agents in pool 3: read response (HTTP 200, ", " bytes read): unexpected EOF"},
		wantCalls: 3, // a transport failure: retried like one
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) { tt.reply(w) })
			c := newClient(t, f, func(o *ado.Options) { o.MaxRetries, o.Sleep = 2, noWait })
			got, err := c.ListAgents(t.Context(), 3)
			if err == nil {
				t.Fatalf("got agents %+v and no error, want an error", got)
			}
			if got != nil {
				t.Errorf("got agents %+v alongside the error, want nil", got)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
			if tt.notMsg != "" && strings.Contains(err.Error(), tt.notMsg) {
				t.Errorf("error %q mentions %q", err, tt.notMsg)
			}
			if errors.Is(err, ado.ErrUnauthorized) || errors.Is(err, ado.ErrNotFound) {
				t.Errorf("errors.Is(%v) matches a sentinel; garbage is neither unauthorized nor not found", err)
			}
			if got := c.Calls(); got != tt.wantCalls {
				t.Errorf("got %d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

// TestCutBodyRetried: a GET whose body is cut off once is retried and succeeds; a POST that
// creates something is not, since ADO may have done it.
func TestCutBodyRetried(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			cutBody(w, `{"count":1,"value":[{"id":7,"name":"lin`)
			return
		}
		writeJSON(w, 200, []byte(`{"count":1,"value":[{"id":7,"name":"linux-1","enabled":true}]}`))
	})
	c := newClient(t, f, func(o *ado.Options) { o.Sleep = noWait })
	got, err := c.ListAgents(t.Context(), 3)
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	if diff := cmp.Diff([]ado.Agent{{ID: 7, Name: "linux-1", Enabled: true}}, got); diff != "" {
		t.Errorf("agents mismatch (-want +got):\n%s", diff)
	}
	if got := c.Calls(); got != 2 {
		t.Errorf("got %d calls, want 2", got)
	}

	post := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) { cutBody(w, `{"id":9,`) })
	pc := newClient(t, post, func(o *ado.Options) { o.Sleep = noWait })
	a, err := pc.AddAgent(t.Context(), 3, ado.Agent{Name: "linux-2"})
	if err == nil || !strings.Contains(err.Error(), `ado: add agent "linux-2" to pool 3: read response`) {
		t.Errorf("AddAgent error = %v, want a read-response error naming the call", err)
	}
	if a.ID != 0 || a.Name != "" {
		t.Errorf("AddAgent returned %+v with the error, want the zero agent", a)
	}
	if got := pc.Calls(); got != 1 {
		t.Errorf("AddAgent made %d calls, want 1 (not idempotent)", got)
	}
}

// TestGetAgentGarbage: single-object calls return the zero value with a decode error too.
func TestGetAgentGarbage(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, []byte(`{"id":12,"name":"linux-1","enabled":"yes"}`))
	})
	c := newClient(t, f, nil)
	got, err := c.GetAgent(t.Context(), 3, 12)
	if err == nil || !strings.Contains(err.Error(), "ado: get agent 12 in pool 3: decode response: json: cannot unmarshal string into Go struct field Agent.enabled of type bool") {
		t.Errorf("GetAgent error = %v, want a decode error naming the call and the field", err)
	}
	if got.ID != 0 || got.Name != "" {
		t.Errorf("GetAgent returned %+v with the error, want the zero agent", got)
	}
	_, err = c.SetAgentEnabled(t.Context(), 3, 12, false)
	if err == nil || !strings.Contains(err.Error(), "ado: disable agent 12 in pool 3: decode response") {
		t.Errorf("SetAgentEnabled error = %v, want a decode error naming the call", err)
	}
}

func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }
