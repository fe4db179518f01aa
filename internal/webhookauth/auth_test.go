package webhookauth_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/webhookauth"
	"github.com/adofleet/adofleet/internal/webhookauth/webhookauthtest"
)

const (
	user   = "ado-caller"
	pass   = "s3cret-pass-value"
	secret = "shared-secret-value"
	token  = "bearer-token-value"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		auth    webhookauth.Auth
		wantErr string
	}{
		{"nothing", webhookauth.Auth{}, "set Auth.Username and Auth.Password, or Auth.Secret, or Auth.Token"},
		{"header alone", webhookauth.Auth{SecretHeader: "X-S"}, "set Auth.Username and Auth.Password, or Auth.Secret, or Auth.Token"},
		{"user alone", webhookauth.Auth{Username: user}, "set Auth.Username and Auth.Password, or Auth.Secret, or Auth.Token"},
		{"user and secret", webhookauth.Auth{Username: user, Secret: secret}, "Auth.Username and Auth.Password go together"},
		{"password and secret", webhookauth.Auth{Password: pass, Secret: secret}, "Auth.Username and Auth.Password go together"},
		{"basic", webhookauth.Auth{Username: user, Password: pass}, ""},
		{"secret", webhookauth.Auth{Secret: secret}, ""},
		{"both", webhookauth.Auth{Username: user, Password: pass, Secret: secret}, ""},
		{"token", webhookauth.Auth{Token: token}, ""},
		{"user and token", webhookauth.Auth{Username: user, Token: token}, "Auth.Username and Auth.Password go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.auth.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("Validate: got %q, want %q", got, tt.wantErr)
			}
			if _, err := webhookauth.New(tt.auth, "r"); (err == nil) != (tt.wantErr == "") {
				t.Errorf("New: got error %v, want one: %v", err, tt.wantErr != "")
			}
		})
	}
}

// serve answers 401 with the challenge, or 200 with the body it read (413/400 when refused).
func serve(t *testing.T, a webhookauth.Auth, limit int64) string {
	t.Helper()
	v, err := webhookauth.New(a, "adofleet test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !v.Authorized(r) {
			v.Challenge(w)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, berr := webhookauth.ReadBody(w, r, limit)
		if berr != nil {
			w.Header().Set("X-Outcome", berr.Outcome)
			http.Error(w, berr.Error(), berr.Status)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAuthorized(t *testing.T) {
	t.Parallel()
	basic := webhookauthtest.Basic
	shared := webhookauthtest.Secret
	hdr := webhookauth.DefaultSecretHeader
	basicOnly := webhookauth.Auth{Username: user, Password: pass}
	secretOnly := webhookauth.Auth{Secret: secret}
	both := webhookauth.Auth{Username: user, Password: pass, Secret: secret}
	custom := webhookauth.Auth{Secret: secret, SecretHeader: "X-Hook-Token"}
	bearerOnly := webhookauth.Auth{Token: token}
	basicAndBearer := webhookauth.Auth{Username: user, Password: pass, Token: token}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	tests := []struct {
		name string
		auth webhookauth.Auth
		edit func(*http.Request)
		want bool
	}{
		{"basic: right credentials", basicOnly, basic(user, pass), true},
		{"basic: nothing", basicOnly, nil, false},
		{"basic: wrong password", basicOnly, basic(user, pass+"x"), false},
		{"basic: password prefix", basicOnly, basic(user, pass[:5]), false},
		{"basic: wrong user", basicOnly, basic("other", pass), false},
		{"basic: password as bearer", basicOnly, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+pass) }, false},
		{"basic: a secret is not configured", basicOnly, shared(hdr, secret), false},
		{"basic: empty secret header", basicOnly, shared(hdr, ""), false},
		{"secret: right secret", secretOnly, shared(hdr, secret), true},
		{"secret: nothing", secretOnly, nil, false},
		{"secret: empty basic credentials", secretOnly, basic("", ""), false},
		{"secret: prefix", secretOnly, shared(hdr, secret[:5]), false},
		{"secret: longer", secretOnly, shared(hdr, secret+"x"), false},
		{"secret: in another header", secretOnly, shared("X-Other", secret), false},
		{"secret: as basic password", secretOnly, basic("", secret), false},
		{"secret: header name in another case", secretOnly, shared(strings.ToLower(hdr), secret), true},
		{"both: basic", both, basic(user, pass), true},
		{"both: secret", both, shared(hdr, secret), true},
		{"both: right secret, wrong password", both, func(r *http.Request) { basic(user, "x")(r); shared(hdr, secret)(r) }, true},
		{"both: neither", both, basic(user, secret), false},
		{"custom header: right", custom, shared("X-Hook-Token", secret), true},
		{"custom header: the default one", custom, shared(hdr, secret), false},
		{"bearer: right token", bearerOnly, bearer(token), true},
		{"bearer: scheme in lower case", bearerOnly, func(r *http.Request) { r.Header.Set("Authorization", "bearer "+token) }, true},
		{"bearer: nothing", bearerOnly, nil, false},
		{"bearer: prefix", bearerOnly, bearer(token[:5]), false},
		{"bearer: empty", bearerOnly, bearer(""), false},
		{"bearer: as basic password", bearerOnly, basic("", token), false},
		{"bearer: in the secret header", bearerOnly, shared(hdr, token), false},
		{"bearer: a token is not configured", basicOnly, bearer(pass), false},
		{"basic and bearer: bearer", basicAndBearer, bearer(token), true},
		{"basic and bearer: basic", basicAndBearer, basic(user, pass), true},
		{"basic and bearer: password as token", basicAndBearer, bearer(pass), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _ := webhookauthtest.Post(t, serve(t, tt.auth, 1024), nil, []byte("{}"), tt.edit)
			want := http.StatusUnauthorized
			if tt.want {
				want = http.StatusOK
			}
			if code != want {
				t.Errorf("status: got %d, want %d", code, want)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		auth webhookauth.Auth
		want string
	}{
		{webhookauth.Auth{Secret: secret}, `Basic realm="adofleet checks"`},
		{webhookauth.Auth{Username: user, Password: pass, Token: token}, `Basic realm="adofleet checks"`},
		{webhookauth.Auth{Token: token}, `Bearer realm="adofleet checks"`},
	}
	for _, tt := range tests {
		v, err := webhookauth.New(tt.auth, "adofleet checks")
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		v.Challenge(w)
		if got := w.Header().Get("WWW-Authenticate"); got != tt.want {
			t.Errorf("%v: WWW-Authenticate: got %q, want %q", tt.auth, got, tt.want)
		}
	}
}

func TestCredentialsAreNotPrinted(t *testing.T) {
	t.Parallel()
	a := webhookauth.Auth{Username: user, Password: pass, Secret: secret, SecretHeader: "X-S", Token: token}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("configured", "auth", a)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", a), "%+v": fmt.Sprintf("%+v", a), "%#v": fmt.Sprintf("%#v", a),
		"%s": fmt.Sprintf("%s", a), "slog": logged.String(),
		"pointer %+v": fmt.Sprintf("%+v", &a),
	}
	for name, out := range outputs {
		for _, s := range []string{pass, secret, token} {
			if strings.Contains(out, s) {
				t.Errorf("%s shows a credential: %s", name, out)
			}
		}
		if !strings.Contains(out, user) {
			t.Errorf("%s: got %s, want the username, which is not secret", name, out)
		}
	}
	for _, bad := range []webhookauth.Auth{{Username: user, Secret: secret}, {Password: pass, Secret: secret}} {
		if err := bad.Validate(); err == nil || strings.Contains(err.Error(), pass) || strings.Contains(err.Error(), secret) {
			t.Errorf("Validate: got %v, want an error that shows no credential", err)
		}
	}
}
