package ado_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
)

const (
	oldPAT    = "pat-OLD-SECRET-1b2c3d"
	newPAT    = "pat-NEW-SECRET-9e8f7a"
	oldBearer = "bearer-OLD-SECRET-44aa"
	newBearer = "bearer-NEW-SECRET-77bb"
)

var emptyList = []byte(`{"count":0,"value":[]}`)

// rotatingCredential is what a secret refresher looks like to the client: a value that changes
// between calls, counting how often it is asked.
type rotatingCredential struct {
	mu    sync.Mutex
	cred  ado.Credential
	err   error
	calls atomic.Int64
}

func (r *rotatingCredential) set(c ado.Credential, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cred, r.err = c, err
}

func (r *rotatingCredential) get(context.Context) (ado.Credential, error) {
	r.calls.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cred, r.err
}

func header(c ado.Credential) string {
	if c.PAT != "" {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+c.PAT))
	}
	return "Bearer " + c.BearerToken
}

// TestCredentialRotation: the server accepts the old credential, then only the new one; the same
// client follows once the Credential func returns the new value.
func TestCredentialRotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new ado.Credential
	}{
		{"PAT", ado.Credential{PAT: oldPAT}, ado.Credential{PAT: newPAT}},
		{"bearer token", ado.Credential{BearerToken: oldBearer}, ado.Credential{BearerToken: newBearer}},
		{"PAT to bearer token", ado.Credential{PAT: oldPAT}, ado.Credential{BearerToken: newBearer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var accepted atomic.Value
			accepted.Store(header(tt.old))
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.Header.Get("Authorization") != accepted.Load().(string) {
					adoError(w, 401, "UnauthorizedRequestException", "bad credential")
					return
				}
				writeJSON(w, 200, emptyList)
			})
			src := &rotatingCredential{cred: tt.old}
			c := newClient(t, f, func(o *ado.Options) { o.PAT, o.Credential = "", src.get })
			ctx := t.Context()

			if _, err := c.ListAgents(ctx, 1); err != nil {
				t.Fatalf("with the old credential accepted: %v", err)
			}
			accepted.Store(header(tt.new)) // ADO now takes only the new one; the source lags
			_, err := c.ListAgents(ctx, 1)
			if !errors.Is(err, ado.ErrUnauthorized) {
				t.Fatalf("before the source rotates: got %v, want ErrUnauthorized", err)
			}
			src.set(tt.new, nil)
			if _, err := c.ListAgents(ctx, 1); err != nil {
				t.Fatalf("after the source rotates: %v", err)
			}

			var got []string
			for _, r := range f.requests() {
				got = append(got, r.Header.Get("Authorization"))
			}
			want := []string{header(tt.old), header(tt.old), header(tt.new)}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("got Authorization headers %q, want %q", got, want)
			}
			if got, want := src.calls.Load(), int64(3); got != want {
				t.Errorf("got %d Credential calls, want %d (one per attempt)", got, want)
			}
		})
	}
}

// TestCredentialPerAttempt: a retry asks for the credential again, so a value rotated while the
// client backs off is used by the next attempt.
func TestCredentialPerAttempt(t *testing.T) {
	t.Parallel()
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			w.WriteHeader(500)
			return
		}
		writeJSON(w, 200, emptyList)
	})
	src := &rotatingCredential{cred: ado.Credential{PAT: oldPAT}}
	c := newClient(t, f, func(o *ado.Options) {
		o.PAT, o.Credential = "", src.get
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			src.set(ado.Credential{PAT: newPAT}, nil) // rotated during the backoff
			return ctx.Err()
		}
	})
	if _, err := c.ListAgents(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	if got, want := reqs[1].Header.Get("Authorization"), header(ado.Credential{PAT: newPAT}); got != want {
		t.Errorf("retry: got Authorization %q, want %q", got, want)
	}
}

// TestCredentialFuncError: a failing or invalid credential fails the call, names it, sends nothing
// and is not retried.
func TestCredentialFuncError(t *testing.T) {
	t.Parallel()
	unavailable := errors.New("ssm:/adofleet/ado-pat: parameter store unavailable")
	tests := []struct {
		name string
		cred ado.Credential
		err  error
		want string
	}{
		{"source error", ado.Credential{}, unavailable, "parameter store unavailable"},
		{"empty credential", ado.Credential{}, nil, "PAT or BearerToken is required"},
		{"both set", ado.Credential{PAT: newPAT, BearerToken: newBearer}, nil, "exclusive"},
		{"line break", ado.Credential{PAT: newPAT + "\r\nX-Evil: 1"}, nil, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, emptyList) })
			src := &rotatingCredential{cred: tt.cred, err: tt.err}
			c := newClient(t, f, func(o *ado.Options) {
				o.PAT, o.Credential, o.MaxRetries = "", src.get, 3
				o.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
			})
			_, err := c.ListAgents(t.Context(), 7)
			if err == nil {
				t.Fatal("got nil error, want one")
			}
			for _, want := range []string{"list agents in pool 7", "organization credential", tt.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %q, want it to contain %q", err, want)
				}
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("got %v, want it to wrap the source's error", err)
			}
			if strings.Contains(err.Error(), newPAT) || strings.Contains(err.Error(), newBearer) {
				t.Errorf("error leaks the credential: %v", err)
			}
			if got := len(f.requests()); got != 0 {
				t.Errorf("got %d requests sent, want 0", got)
			}
			if got := src.calls.Load(); got != 1 {
				t.Errorf("got %d Credential calls, want 1 (not retried)", got)
			}
		})
	}
}

// TestCredentialExclusive: Credential cannot be combined with a static PAT or bearer token.
func TestCredentialExclusive(t *testing.T) {
	t.Parallel()
	get := func(context.Context) (ado.Credential, error) { return ado.Credential{PAT: newPAT}, nil }
	for _, opts := range []ado.Options{
		{OrgURL: "https://dev.azure.com/x", PAT: oldPAT, Credential: get},
		{OrgURL: "https://dev.azure.com/x", BearerToken: oldBearer, Credential: get},
	} {
		_, err := ado.New(opts)
		if err == nil || !strings.Contains(err.Error(), "Credential is exclusive") {
			t.Errorf("got %v, want an error containing %q", err, "Credential is exclusive")
		}
		if err != nil && (strings.Contains(err.Error(), oldPAT) || strings.Contains(err.Error(), oldBearer)) {
			t.Errorf("error leaks the credential: %v", err)
		}
	}
	if got := fmt.Sprintf("%v %+v %#v %s", ado.Credential{PAT: newPAT}, ado.Credential{PAT: newPAT},
		ado.Credential{BearerToken: newBearer}, ado.Credential{PAT: newPAT}); strings.Contains(got, newPAT) ||
		strings.Contains(got, newBearer) {
		t.Errorf("a formatted Credential leaks its value: %s", got)
	}
}

// TestRotatedSecretsNeverLeak: a server that echoes every Authorization header it has ever seen,
// in error bodies, cannot make the old or the new credential appear in errors or logs, and
// neither can a source whose error quotes a value.
func TestRotatedSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seenAuth []string
	f := newFakeADO(t, func(w http.ResponseWriter, r *http.Request, n int) {
		a := r.Header.Get("Authorization")
		mu.Lock()
		seenAuth = append(seenAuth, a, strings.TrimPrefix(a, "Bearer "))
		if dec, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "Basic ")); err == nil {
			seenAuth = append(seenAuth, string(dec))
		}
		echo := "you sent: " + strings.Join(seenAuth, ", ")
		mu.Unlock()
		switch r.URL.Path {
		case "/fabrikam/_apis/distributedtask/pools/1/agents":
			adoError(w, 401, "UnauthorizedRequestException", echo)
		case "/fabrikam/_apis/distributedtask/pools/2/agents":
			w.WriteHeader(500)
			_, _ = w.Write([]byte(echo))
		case "/fabrikam/_apis/distributedtask/pools/4/agents":
			// A long plain-text body that error messages cut, with the credential across the cut.
			w.WriteHeader(500)
			_, _ = w.Write([]byte(strings.Repeat("x", 290) + " " + strings.TrimPrefix(a, "Bearer ")))
		default:
			writeJSON(w, 200, []byte(`{"count":1,"value":[`+echo))
		}
	})
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := &rotatingCredential{cred: ado.Credential{PAT: oldPAT}}
	c := newClient(t, f, func(o *ado.Options) {
		o.PAT, o.Credential, o.Logger, o.MaxRetries = "", src.get, logger, 1
		o.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	})
	ctx := t.Context()
	var errs []error
	calls := func() {
		for pool := 1; pool <= 4; pool++ {
			_, err := c.ListAgents(ctx, pool)
			if err == nil {
				t.Errorf("pool %d: got nil error, want one", pool)
				continue
			}
			errs = append(errs, err)
		}
	}
	calls()
	src.set(ado.Credential{PAT: newPAT}, nil)
	calls()
	src.set(ado.Credential{BearerToken: newBearer}, nil)
	calls()
	src.set(ado.Credential{}, fmt.Errorf("refresh failed; last values were %s and %s", newPAT, oldPAT))
	_, err := c.ListAgents(ctx, 1)
	errs = append(errs, err)

	secrets := []string{oldPAT, newPAT, newBearer, header(ado.Credential{PAT: oldPAT}),
		base64.StdEncoding.EncodeToString([]byte(":" + newPAT)), "SECRET",
		"Basic OnBhd", "bearer-"} // the first characters of a cut credential
	for _, err := range errs {
		t.Log(err)
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error leaks a credential (%q): %v", s, err)
			}
		}
	}
	logMu.Lock()
	logText := logs.String()
	logMu.Unlock()
	if !strings.Contains(logText, "retrying") {
		t.Errorf("expected retry warnings in the log, got:\n%s", logText)
	}
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("log leaks a credential (%q):\n%s", s, logText)
		}
	}
}
