package webhookauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/adofleet/adofleet/internal/webhookauth"
	"github.com/adofleet/adofleet/internal/webhookauth/webhookauthtest"
)

func TestReadBody(t *testing.T) {
	t.Parallel()
	const limit = 16
	tests := []struct {
		name        string
		body        string
		wantStatus  int
		wantOutcome string
		wantMessage string
	}{
		{"empty", "", http.StatusOK, "", ""},
		{"under the limit", "0123456789", http.StatusOK, "", ""},
		{"at the limit", strings.Repeat("a", limit), http.StatusOK, "", ""},
		{"one byte over", strings.Repeat("a", limit+1), http.StatusRequestEntityTooLarge, webhookauth.OutcomeTooLarge, "body is larger than 16 bytes"},
		{"far over", strings.Repeat("a", 64<<10), http.StatusRequestEntityTooLarge, webhookauth.OutcomeTooLarge, "body is larger than 16 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := serve(t, webhookauth.Auth{Secret: secret}, limit)
			code, got := webhookauthtest.Post(t, url, nil, []byte(tt.body), webhookauthtest.Secret(webhookauth.DefaultSecretHeader, secret))
			if code != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", code, tt.wantStatus)
			}
			want := tt.body
			if tt.wantStatus != http.StatusOK {
				want = tt.wantMessage + "\n"
			}
			if string(got) != want {
				t.Errorf("answer: got %q, want %q", got, want)
			}
		})
	}
}

func TestReadBodyErrors(t *testing.T) {
	t.Parallel()
	t.Run("too large wraps the MaxBytesError", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
		_, berr := webhookauth.ReadBody(httptest.NewRecorder(), r, 4)
		var tooBig *http.MaxBytesError
		if berr == nil || !errors.As(berr, &tooBig) || tooBig.Limit != 4 {
			t.Fatalf("ReadBody: got %v, want a BodyError wrapping an http.MaxBytesError of limit 4", berr)
		}
		if berr.Status != http.StatusRequestEntityTooLarge || berr.Outcome != webhookauth.OutcomeTooLarge {
			t.Errorf("got status %d outcome %q, want 413 %q", berr.Status, berr.Outcome, webhookauth.OutcomeTooLarge)
		}
	})
	t.Run("a failed read is a bad request that hides the cause", func(t *testing.T) {
		t.Parallel()
		cause := errors.New("connection reset while reading token=abc")
		r := httptest.NewRequest(http.MethodPost, "/", iotest.ErrReader(cause))
		_, berr := webhookauth.ReadBody(httptest.NewRecorder(), r, 1024)
		if berr == nil {
			t.Fatal("ReadBody: got nil, want a BodyError")
		}
		if berr.Status != http.StatusBadRequest || berr.Outcome != webhookauth.OutcomeBadRequest {
			t.Errorf("got status %d outcome %q, want 400 %q", berr.Status, berr.Outcome, webhookauth.OutcomeBadRequest)
		}
		if got, want := berr.Error(), "could not read the body"; got != want {
			t.Errorf("message: got %q, want %q", got, want)
		}
		if !errors.Is(berr, cause) {
			t.Errorf("errors.Is(%v, cause) = false, want the cause kept for the caller's own use", berr)
		}
	})
}
