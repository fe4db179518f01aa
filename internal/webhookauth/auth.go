// Package webhookauth authenticates the calls Azure DevOps makes to adofleet's endpoints (the
// check's Invoke REST API call, service-hook deliveries) and the people and scrapers reading the
// dashboard, and bounds what they may send. A caller proves itself with basic credentials, a
// shared secret in a header or a bearer token; each is compared in constant time. An AllowList
// admits callers by address, and Guard puts both in front of a handler. Nothing here logs or
// returns a credential.
package webhookauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// DefaultSecretHeader carries the shared secret when Auth.SecretHeader is empty.
const DefaultSecretHeader = "X-Adofleet-Secret"

// Auth is what a caller must present. At least one way must be configured; a call passes if it
// satisfies any.
type Auth struct {
	// Username and Password are basic credentials (a Generic service connection's, or a
	// service-hook subscription's).
	Username string
	Password string
	// Secret is a shared secret sent in SecretHeader (default X-Adofleet-Secret), for a caller
	// configured with a header instead of credentials.
	Secret       string
	SecretHeader string
	// Token is a bearer token sent as "Authorization: Bearer TOKEN" (a Prometheus scraper, a
	// script reading the dashboard's API).
	Token string
}

// String keeps the credentials out of anything that prints an Auth (%v, %+v, %s).
func (a Auth) String() string {
	return fmt.Sprintf("webhookauth.Auth{Username:%q Password:%s Secret:%s SecretHeader:%q Token:%s}",
		a.Username, redact(a.Password), redact(a.Secret), a.SecretHeader, redact(a.Token))
}

// GoString does the same for %#v.
func (a Auth) GoString() string { return a.String() }

// LogValue does the same for log/slog.
func (a Auth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", a.Username), slog.String("password", redact(a.Password)),
		slog.String("secret", redact(a.Secret)), slog.String("secretHeader", a.SecretHeader),
		slog.String("token", redact(a.Token)))
}

func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// Validate says what is missing; the messages name the fields, never their values.
func (a Auth) Validate() error {
	if (a.Username == "" || a.Password == "") && a.Secret == "" && a.Token == "" {
		return errors.New("set Auth.Username and Auth.Password, or Auth.Secret, or Auth.Token")
	}
	if (a.Username == "") != (a.Password == "") {
		return errors.New("Auth.Username and Auth.Password go together")
	}
	return nil
}

// Verifier checks requests against an Auth.
type Verifier struct {
	basic, shared, bearer bool
	header                string
	challenge             string
	// Hashes, so that the comparison takes the same time whatever the length of the guess.
	user, pass, secret, token [32]byte
}

// New validates a and returns its Verifier. realm names the endpoint in the 401's
// WWW-Authenticate challenge: Basic (which makes a browser ask for credentials) unless a bearer
// token is the only way configured.
func New(a Auth, realm string) (*Verifier, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{
		basic: a.Username != "", shared: a.Secret != "", bearer: a.Token != "", header: a.SecretHeader,
		challenge: fmt.Sprintf("Basic realm=%q", realm),
		user:      sha256.Sum256([]byte(a.Username)), pass: sha256.Sum256([]byte(a.Password)),
		secret: sha256.Sum256([]byte(a.Secret)), token: sha256.Sum256([]byte(a.Token)),
	}
	if v.bearer && !v.basic && !v.shared {
		v.challenge = fmt.Sprintf("Bearer realm=%q", realm)
	}
	if v.header == "" {
		v.header = DefaultSecretHeader
	}
	return v, nil
}

// Authorized reports whether r carries the configured basic credentials, shared secret or bearer
// token. Every configured check runs, so the time taken does not say which failed.
func (v *Verifier) Authorized(r *http.Request) bool {
	ok := 0
	if v.basic {
		if u, p, has := r.BasicAuth(); has {
			uh, ph := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
			ok |= subtle.ConstantTimeCompare(uh[:], v.user[:]) & subtle.ConstantTimeCompare(ph[:], v.pass[:])
		}
	}
	if v.shared {
		if s := r.Header.Get(v.header); s != "" {
			sh := sha256.Sum256([]byte(s))
			ok |= subtle.ConstantTimeCompare(sh[:], v.secret[:])
		}
	}
	if v.bearer {
		if tok, has := bearerToken(r); has {
			th := sha256.Sum256([]byte(tok))
			ok |= subtle.ConstantTimeCompare(th[:], v.token[:])
		}
	}
	return ok == 1
}

// Challenge sets the WWW-Authenticate header a 401 answer carries; the caller writes the status
// and its own body after it.
func (v *Verifier) Challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", v.challenge)
}

// bearerToken is the token of an "Authorization: Bearer TOKEN" header (the scheme in any case).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
