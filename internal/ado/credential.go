package ado

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Credential is the organization credential for one request: exactly one of PAT and BearerToken.
// Its String and GoString print neither, so a stray %v cannot leak it.
type Credential struct {
	// PAT is a personal access token, sent as basic auth with an empty user name.
	PAT string
	// BearerToken is an Entra ID (or other OAuth) access token.
	BearerToken string
}

// String implements fmt.Stringer without the secret.
func (Credential) String() string { return "ado.Credential([REDACTED])" }

// GoString implements fmt.GoStringer (%#v) without the secret.
func (c Credential) GoString() string { return c.String() }

// header validates c and returns its Authorization header value. Errors name no value.
func (c Credential) header() (string, error) {
	switch {
	case c.PAT != "" && c.BearerToken != "":
		return "", errors.New("PAT and BearerToken are exclusive; set one")
	case c.PAT == "" && c.BearerToken == "":
		return "", errors.New("PAT or BearerToken is required")
	case strings.ContainsAny(c.PAT+c.BearerToken, "\r\n"):
		return "", errors.New("PAT/BearerToken contains a line break")
	case c.PAT != "":
		return basicAuth(c.PAT), nil
	default:
		return "Bearer " + c.BearerToken, nil
	}
}

// maxRemembered bounds how many past credentials are still scrubbed from messages: enough for
// any overlap of old and new tokens, without growing for ever under frequent rotation.
const maxRemembered = 16

// credentials turns Options.Credential (or the static PAT/BearerToken) into Authorization headers,
// and remembers every credential used so far, so that each is redacted from later messages.
type credentials struct {
	get func(ctx context.Context) (Credential, error)

	mu       sync.Mutex
	last     Credential
	lastAuth string
	used     [][3]string // PAT, bearer token, header of each distinct credential used; oldest first
}

// newCredentials checks opts' credential settings: either Credential, or exactly one of PAT and
// BearerToken, which is validated (and remembered) here so a bad static value fails New.
func newCredentials(opts Options) (*credentials, error) {
	if opts.Credential != nil {
		if opts.PAT != "" || opts.BearerToken != "" {
			return nil, errors.New("ado: options: Credential is exclusive with PAT and BearerToken; set one")
		}
		return &credentials{get: opts.Credential}, nil
	}
	static := Credential{PAT: opts.PAT, BearerToken: opts.BearerToken}
	c := &credentials{get: func(context.Context) (Credential, error) { return static, nil }}
	if _, err := c.use(static); err != nil {
		return nil, fmt.Errorf("ado: options: %w", err)
	}
	return c, nil
}

// current asks for the credential of one attempt and returns its Authorization header.
func (c *credentials) current(ctx context.Context) (string, error) {
	cred, err := c.get(ctx)
	if err != nil {
		return "", err
	}
	return c.use(cred)
}

// use validates cred, remembers it, and returns its header; the last one is cached, so the
// common case (an unchanged credential) costs a comparison.
func (c *credentials) use(cred Credential) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastAuth != "" && cred == c.last {
		return c.lastAuth, nil
	}
	auth, err := cred.header()
	if err != nil {
		return "", err
	}
	c.last, c.lastAuth = cred, auth
	entry := [3]string{cred.PAT, cred.BearerToken, auth}
	c.used = slices.DeleteFunc(c.used, func(u [3]string) bool { return u == entry }) // a reverted value
	c.used = append(c.used, entry)
	if len(c.used) > maxRemembered {
		c.used = c.used[len(c.used)-maxRemembered:]
	}
	return auth, nil
}

// secrets returns every remembered credential value and header, to be scrubbed from messages.
func (c *credentials) secrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, 3*len(c.used))
	for _, u := range c.used {
		out = append(out, u[:]...)
	}
	return out
}
