package secret

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Ref is a parsed secret reference: Scheme ":" Target, as in env:ADO_PAT or file:/run/secrets/pat.
type Ref struct {
	Scheme string
	Target string
}

// String returns the reference as written. It holds no secret, so it may be logged.
func (r Ref) String() string { return r.Scheme + ":" + r.Target }

// ErrNotReference reports a string that is not of the form scheme:target, most likely a secret
// pasted where its reference belongs. Messages built from it never echo the string.
var ErrNotReference = errors.New("not a secret reference: keep the secret in an environment variable or a file and write env:NAME or file:PATH")

// schemeRE is what a scheme looks like. Anything else before the first colon (or no colon at all)
// makes the string a literal, and a literal is never echoed: it may be a token.
var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,31}$`)

// ParseRef splits s into scheme and target. It checks only the shape, not that the scheme is known.
func ParseRef(s string) (Ref, error) {
	scheme, target, ok := strings.Cut(s, ":")
	if !ok || !schemeRE.MatchString(scheme) {
		return Ref{}, ErrNotReference
	}
	if target == "" {
		return Ref{}, fmt.Errorf("secret reference %q names nothing after the scheme", s)
	}
	return Ref{Scheme: scheme, Target: target}, nil
}

// Error is a failure to check or resolve one reference. It names the reference, never the value.
type Error struct {
	Ref string // the reference as written, e.g. "env:ADO_PAT"
	Err error
}

func (e *Error) Error() string { return "secret " + e.Ref + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
