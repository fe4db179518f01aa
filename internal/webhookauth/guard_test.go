package webhookauth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/adofleet/adofleet/internal/webhookauth"
)

// countingBody records whether the handler chain read the request body.
type countingBody struct {
	io.Reader
	read *atomic.Bool
}

func (b countingBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.Reader.Read(p)
}

func (countingBody) Close() error { return nil }

func TestGuard(t *testing.T) {
	t.Parallel()
	verifier, err := webhookauth.New(webhookauth.Auth{Username: user, Password: pass, Token: token}, "adofleet dashboard")
	if err != nil {
		t.Fatal(err)
	}
	allow := webhookauth.NewAllowList(mustPrefixes(t, "203.0.113.0/24"), mustPrefixes(t, "10.0.0.1"))
	tests := []struct {
		name        string
		auth        *webhookauth.Verifier
		remote, xff string
		path        string
		edit        func(*http.Request)
		wantCode    int
		wantReason  string // the refusal counted, "" for none
		wantHandler bool
	}{
		{"allowed, no auth configured", nil, "203.0.113.5:1", "", "/api/status", nil, 200, "", true},
		{"denied address", nil, "198.51.100.5:1", "", "/api/status", nil, 403, webhookauth.ReasonAddress, false},
		{"denied address with right credentials", verifier, "198.51.100.5:1", "", "/", func(r *http.Request) { r.SetBasicAuth(user, pass) }, 403, webhookauth.ReasonAddress, false},
		{"allowed through the trusted proxy", nil, "10.0.0.1:1", "203.0.113.5", "/", nil, 200, "", true},
		{"denied through the trusted proxy", nil, "10.0.0.1:1", "198.51.100.5", "/", nil, 403, webhookauth.ReasonAddress, false},
		{"forged header from an untrusted peer", nil, "198.51.100.5:1", "203.0.113.5", "/", nil, 403, webhookauth.ReasonAddress, false},
		{"allowed, no credentials", verifier, "203.0.113.5:1", "", "/", nil, 401, webhookauth.ReasonCredentials, false},
		{"allowed, wrong password", verifier, "203.0.113.5:1", "", "/", func(r *http.Request) { r.SetBasicAuth(user, "nope") }, 401, webhookauth.ReasonCredentials, false},
		{"allowed, basic", verifier, "203.0.113.5:1", "", "/", func(r *http.Request) { r.SetBasicAuth(user, pass) }, 200, "", true},
		{"allowed, bearer", verifier, "203.0.113.5:1", "", "/metrics", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }, 200, "", true},
		{"exempt probe from anywhere, no credentials", verifier, "198.51.100.5:1", "", "/healthz", nil, 200, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			m, err := webhookauth.NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			var called, bodyRead atomic.Bool
			h := webhookauth.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called.Store(true)
				_, _ = io.Copy(io.Discard, r.Body)
			}), webhookauth.GuardOptions{
				Endpoint: "dashboard", Allow: allow, Auth: tt.auth, Metrics: m,
				Exempt: func(r *http.Request) bool { return r.URL.Path == "/healthz" },
			})
			r := httptest.NewRequest("POST", tt.path, nil)
			r.Body = countingBody{Reader: strings.NewReader(`{"x":1}`), read: &bodyRead}
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.edit != nil {
				tt.edit(r)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Errorf("status: got %d, want %d", w.Code, tt.wantCode)
			}
			if called.Load() != tt.wantHandler {
				t.Errorf("handler called: got %v, want %v", called.Load(), tt.wantHandler)
			}
			if !tt.wantHandler && bodyRead.Load() {
				t.Error("the body of a refused request was read")
			}
			for _, reason := range []string{webhookauth.ReasonAddress, webhookauth.ReasonCredentials} {
				want := 0.0
				if reason == tt.wantReason {
					want = 1
				}
				if got := testutil.ToFloat64(m.Refused("dashboard", reason)); got != want {
					t.Errorf("refused{reason=%q}: got %v, want %v", reason, got, want)
				}
			}
			if tt.wantCode == 401 {
				if got := w.Header().Get("WWW-Authenticate"); got != `Basic realm="adofleet dashboard"` {
					t.Errorf("WWW-Authenticate: got %q", got)
				}
			}
			if body := w.Body.String(); strings.Contains(body, pass) || strings.Contains(body, token) {
				t.Errorf("answer shows a credential: %q", body)
			}
		})
	}
}
