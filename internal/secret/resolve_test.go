package secret_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/secret"
)

// writeSecret writes content to a file of the given mode in a new temp dir and returns its path.
func writeSecret(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pat")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // the umask may have narrowed it
		t.Fatal(err)
	}
	return p
}

func TestResolveFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		content  string
		mode     os.FileMode
		want     string
		warnWant bool
	}{
		{name: "trailing newline", content: token + "\n", mode: 0o600, want: token},
		{name: "CRLF", content: token + "\r\n", mode: 0o400, want: token},
		{name: "no newline", content: token, mode: 0o600, want: token},
		{name: "inner newline kept", content: "a\nb\n", mode: 0o600, want: "a\nb"},
		{name: "group readable", content: token + "\n", mode: 0o640, want: token, warnWant: true},
		{name: "world readable", content: token, mode: 0o644, want: token, warnWant: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeSecret(t, tt.content, tt.mode)
			var logs bytes.Buffer
			reg := secret.NewRegistry(slog.New(slog.NewTextHandler(&logs, nil)))
			v, err := reg.Resolve(context.Background(), "file:"+p)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got := v.Reveal(); got != tt.want {
				t.Errorf("Reveal() = %q, want %q", got, tt.want)
			}
			if got := v.Warning() != ""; got != tt.warnWant {
				t.Errorf("warning present = %v (%q), want %v", got, v.Warning(), tt.warnWant)
			}
			if got := strings.Contains(logs.String(), "level=WARN"); got != tt.warnWant {
				t.Errorf("warning logged = %v, want %v; logs: %s", got, tt.warnWant, logs.String())
			}
			if tt.warnWant && !strings.Contains(logs.String(), "file:"+p) {
				t.Errorf("warning log does not name the reference: %s", logs.String())
			}
			if strings.Contains(logs.String(), token) || strings.Contains(v.Warning(), token) {
				t.Errorf("warning contains the secret: %s / %s", logs.String(), v.Warning())
			}
		})
	}
}

func TestResolveFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := writeSecret(t, "\n", 0o600)
	tests := []struct {
		name, ref, want string
	}{
		{"missing", "file:" + filepath.Join(dir, "nope"), "secret file:" + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"directory", "file:" + dir, "secret file:" + dir + ": is a directory, want a file"},
		{"empty", "file:" + empty, "secret file:" + empty + ": file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := secret.Resolve(context.Background(), tt.ref)
			if err == nil {
				t.Fatal("Resolve: got nil error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
			var se *secret.Error
			if !errors.As(err, &se) || se.Ref != tt.ref {
				t.Errorf("error %v: want a *secret.Error with Ref %q", err, tt.ref)
			}
		})
	}
}

// Env tests use t.Setenv, so they cannot run in parallel.
func TestResolveEnv(t *testing.T) {
	t.Setenv("ADOFLEET_TEST_PAT", token)
	t.Setenv("ADOFLEET_TEST_EMPTY", "")
	v, err := secret.Resolve(context.Background(), "env:ADOFLEET_TEST_PAT")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got := v.Reveal(); got != token {
		t.Errorf("Reveal() = %q, want the variable's value", got)
	}
	for ref, want := range map[string]string{
		"env:ADOFLEET_TEST_UNSET_X": "secret env:ADOFLEET_TEST_UNSET_X: environment variable ADOFLEET_TEST_UNSET_X is not set",
		"env:ADOFLEET_TEST_EMPTY":   "secret env:ADOFLEET_TEST_EMPTY: environment variable ADOFLEET_TEST_EMPTY is empty",
		"env:1BAD-NAME":             `secret env:1BAD-NAME: "1BAD-NAME" is not an environment variable name (letters, digits and _, not starting with a digit)`,
	} {
		_, err := secret.Resolve(context.Background(), ref)
		if err == nil {
			t.Errorf("Resolve(%q): got nil error", ref)
			continue
		}
		if got := err.Error(); got != want {
			t.Errorf("Resolve(%q) error = %q, want %q", ref, got, want)
		}
	}
}

func TestEnvLookupSeam(t *testing.T) {
	t.Parallel()
	e := secret.Env{Lookup: func(name string) (string, bool) { return "v-" + name, true }}
	v, err := e.Resolve(context.Background(), "X")
	if err != nil || v.Reveal() != "v-X" {
		t.Errorf("Resolve = %q, %v; want %q, nil", v.Reveal(), err, "v-X")
	}
}

func TestNotAReferenceNeverEchoes(t *testing.T) {
	t.Parallel()
	for _, literal := range []string{
		token,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", // a JWT's shape
		"Bearer " + token,
		"user:" + token + "!",
		"",
	} {
		for name, err := range map[string]error{
			"Check":   secret.Check(literal),
			"Resolve": func() error { _, err := secret.Resolve(context.Background(), literal); return err }(),
		} {
			if err == nil {
				t.Errorf("%s(literal): got nil error", name)
				continue
			}
			if literal != "" && strings.Contains(err.Error(), literal) || strings.Contains(err.Error(), token) {
				t.Errorf("%s error echoes the literal: %v", name, err)
			}
		}
	}
	if err := secret.Check(token); !errors.Is(err, secret.ErrNotReference) {
		t.Errorf("Check(token) = %v, want ErrNotReference", err)
	}
}

func TestUnknownSchemeListsKnownOnes(t *testing.T) {
	t.Parallel()
	_, err := secret.Resolve(context.Background(), "vault:kv/ado#pat")
	want := `unknown secret scheme "vault"; known schemes: env, file`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if got, want := strings.Join(secret.Schemes(), ","), "env,file"; got != want {
		t.Errorf("Schemes() = %q, want %q", got, want)
	}
}

// fakeResolver stands in for a later scheme such as ssm.
type fakeResolver map[string]string

func (f fakeResolver) Resolve(_ context.Context, target string) (secret.Value, error) {
	s, ok := f[target]
	if !ok {
		return secret.Value{}, errors.New("parameter not found")
	}
	return secret.New(s), nil
}

func TestRegisterScheme(t *testing.T) {
	t.Parallel()
	reg := secret.NewRegistry(nil)
	if err := reg.Register("ssm", fakeResolver{"/ado/pat": token, "/ado/empty": ""}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if got, want := strings.Join(reg.Schemes(), ","), "env,file,ssm"; got != want {
		t.Errorf("Schemes() = %q, want %q", got, want)
	}
	v, err := reg.Resolve(context.Background(), "ssm:/ado/pat")
	if err != nil || v.Reveal() != token {
		t.Errorf("Resolve(ssm:/ado/pat) = %v, %v; want the secret", v, err)
	}
	for ref, want := range map[string]string{
		"ssm:/ado/none":  "secret ssm:/ado/none: parameter not found",
		"ssm:/ado/empty": "secret ssm:/ado/empty: resolves to an empty value",
		"ssm:":           `secret reference "ssm:" names nothing after the scheme`,
	} {
		if _, err := reg.Resolve(context.Background(), ref); err == nil || err.Error() != want {
			t.Errorf("Resolve(%q) error = %v, want %q", ref, err, want)
		}
	}
	for _, tc := range []struct {
		scheme string
		res    secret.Resolver
		want   string
	}{
		{"ssm", fakeResolver{}, `register secret scheme "ssm": already registered`},
		{"Bad_Scheme", fakeResolver{}, `register secret scheme "Bad_Scheme": want lower-case letters and digits`},
		{"kv", nil, `register secret scheme "kv": nil resolver`},
	} {
		if err := reg.Register(tc.scheme, tc.res); err == nil || err.Error() != tc.want {
			t.Errorf("Register(%q) = %v, want %q", tc.scheme, err, tc.want)
		}
	}
	// The default registry is untouched by another registry's schemes.
	if err := secret.Check("ssm:/ado/pat"); err == nil {
		t.Error("default registry accepted a scheme registered elsewhere")
	}
}

func TestResolveHonoursCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := writeSecret(t, token, 0o600)
	_, err := secret.Resolve(ctx, "file:"+p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestCheckDoesNotResolve(t *testing.T) {
	t.Parallel()
	for ref, wantErr := range map[string]bool{
		"env:ADO_PAT":               false,
		"file:/does/not/exist/here": false, // a check is about shape: the file may exist only in production
		"env:not a name":            true,
		"file:":                     true,
	} {
		if err := secret.Check(ref); (err != nil) != wantErr {
			t.Errorf("Check(%q) = %v, want error: %v", ref, err, wantErr)
		}
	}
}
