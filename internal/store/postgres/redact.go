package postgres

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The connection URL carries the database password, and errors from URL parsing or connecting
// can quote the URL. Every error Open returns goes through redact, so the password never
// reaches a log line, an HTTP response or a metric label.

const redacted = "xxxxx"

// passwords finds the password(s) in a connection string, as written and percent-decoded, even
// when the string is malformed (that is when a parser is most likely to quote it back).
func passwords(conn string) []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		out = append(out, p)
		if dec, err := url.PathUnescape(p); err == nil && dec != p {
			out = append(out, dec)
		}
	}
	// URL form: scheme://user:password@host...; the userinfo ends at the last '@' of the authority.
	if _, rest, ok := strings.Cut(conn, "://"); ok {
		authority := rest
		if i := strings.IndexAny(authority, "/?#"); i >= 0 {
			// A '/' or '?' inside the password is legal only percent-encoded, but look past it
			// anyway when an '@' follows, since a malformed URL is what we are guarding against.
			if at := strings.LastIndexByte(authority, '@'); at < i {
				authority = authority[:i]
			}
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
				add(pw)
			}
		}
	}
	// Query parameter or key=value form: password=...
	for _, m := range passwordParam.FindAllStringSubmatch(conn, -1) {
		v := m[1]
		if strings.HasPrefix(v, "'") {
			v = strings.Trim(v, "'")
			add(strings.ReplaceAll(strings.ReplaceAll(v, `\'`, `'`), `\\`, `\`))
		}
		add(v)
	}
	return out
}

var (
	passwordParam = regexp.MustCompile(`(?i)password\s*=\s*('(?:[^'\\]|\\.)*'?|[^\s&]+)`)
	// userinfoPassword is a fallback for a password passwords did not find.
	userinfoPassword = regexp.MustCompile(`(://[^:/@\s]*):[^@\s]*@`)
)

// redactString removes the secrets, and anything shaped like a password, from s.
func redactString(s string, secrets []string) string {
	for _, p := range secrets {
		s = strings.ReplaceAll(s, p, redacted)
		// Also as quoted by %q, which is how url.Error and many wrappers print a string.
		if q := strconv.Quote(p); q[1:len(q)-1] != p {
			s = strings.ReplaceAll(s, q[1:len(q)-1], redacted)
		}
	}
	s = userinfoPassword.ReplaceAllString(s, "$1:"+redacted+"@")
	return passwordParam.ReplaceAllString(s, "password="+redacted)
}

// redactedError carries err's chain for errors.Is/As (context.Canceled, *pgconn.PgError) but
// prints a message with the secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with the secrets scrubbed from its message; nil stays nil.
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: redactString(err.Error(), secrets), err: err}
}
