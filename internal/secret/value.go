// Package secret resolves secret references (env:NAME, file:PATH; later ssm:, secretsmanager:,
// keyvault:) into Values that refuse to print themselves.
//
// A Value only gives up its secret through Reveal, so passing one to a logger, fmt, encoding/json or
// an error message prints "[redacted]" instead. Errors name the reference, never the value.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Value prints in place of its secret.
const Redacted = "[redacted]"

// Value holds a resolved secret. The zero Value is empty. Values are comparable and safe to copy.
type Value struct {
	secret  string
	warning string
}

// New wraps s as a Value; for resolvers and tests.
func New(s string) Value { return Value{secret: s} }

// WithWarning returns v carrying a warning about how the secret is stored (e.g. a file readable by
// others). The warning must not contain the secret.
func (v Value) WithWarning(w string) Value {
	v.warning = w
	return v
}

// Reveal returns the secret itself. Call it only where the secret is handed to its consumer (an
// HTTP header, an agent's environment), never to build a message.
func (v Value) Reveal() string { return v.secret }

// IsZero reports whether the Value holds no secret.
func (v Value) IsZero() bool { return v.secret == "" }

// Warning is a non-fatal problem found while resolving (e.g. "file mode 0644 is wider than 0600"),
// or "". It never contains the secret.
func (v Value) Warning() string { return v.warning }

// String implements fmt.Stringer.
func (v Value) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v).
func (v Value) GoString() string { return "secret.Value(" + Redacted + ")" }

// Format implements fmt.Formatter so every verb (%s, %v, %+v, %q, %x, %d...) prints the redaction.
func (v Value) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			_, _ = fmt.Fprint(f, v.GoString())
			return
		}
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", Redacted)
		return
	}
	_, _ = fmt.Fprint(f, Redacted)
}

// MarshalText implements encoding.TextMarshaler (used by encoding/json map keys, YAML and slog).
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// LogValue implements slog.LogValuer.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

var (
	_ fmt.Formatter  = Value{}
	_ fmt.Stringer   = Value{}
	_ slog.LogValuer = Value{}
)
