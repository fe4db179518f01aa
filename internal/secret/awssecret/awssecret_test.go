package awssecret_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/secret/awssecret"
	"github.com/adofleet/adofleet/internal/secret/awssecret/awsfake"
)

// token looks like an ADO PAT; no log line or error may contain it.
const token = "s3cr3tpat52charsxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

// setup starts a fake with a few parameters and secrets and a registry resolving through it.
func setup(t *testing.T) (*awsfake.Server, *secret.Registry, *bytes.Buffer) {
	t.Helper()
	s := awsfake.New(t)
	s.PutParameter("/adofleet/pat", awsfake.Parameter{Type: "SecureString", Value: token})
	s.PutParameter("/adofleet/plain", awsfake.Parameter{Type: "String", Value: token})
	s.PutSecret("adofleet/pat", awsfake.Secret{String: token})
	s.PutSecret("adofleet/json", awsfake.Secret{String: `{"pat":"` + token + `","port":8080,"on":true,"nested":{"a":1}}`})
	s.PutSecret("adofleet/notjson", awsfake.Secret{String: "x" + token})
	s.PutSecret("adofleet/bin", awsfake.Secret{Binary: []byte(token)})
	var logs bytes.Buffer
	reg := secret.NewRegistry(slog.New(slog.NewTextHandler(&logs, nil)))
	if err := awssecret.Register(reg, s.Config()); err != nil {
		t.Fatal(err)
	}
	return s, reg, &logs
}

func TestResolve(t *testing.T) {
	t.Parallel()
	s, reg, logs := setup(t)
	arn := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:adofleet/pat-AbCdEf"
	tests := []struct {
		ref, want string
		warn      bool
	}{
		{ref: "ssm:/adofleet/pat", want: token},
		{ref: "ssm:/adofleet/plain", want: token, warn: true},
		{ref: "secretsmanager:adofleet/pat", want: token},
		{ref: "secretsmanager:" + arn, want: token},
		{ref: "secretsmanager:adofleet/json#pat", want: token},
		{ref: "secretsmanager:adofleet/json#port", want: "8080"},
		{ref: "secretsmanager:adofleet/json#on", want: "true"},
	}
	for _, tt := range tests {
		v, err := reg.Resolve(context.Background(), tt.ref)
		if err != nil {
			t.Errorf("Resolve(%s): %v", tt.ref, err)
			continue
		}
		if got := v.Reveal(); got != tt.want {
			t.Errorf("Resolve(%s) = %q, want %q", tt.ref, got, tt.want)
		}
		if got := v.Warning() != ""; got != tt.warn {
			t.Errorf("Resolve(%s) warning = %q, want present %v", tt.ref, v.Warning(), tt.warn)
		}
	}
	// Every GetParameter asked for decryption: a SecureString must come back in clear.
	for _, c := range s.Calls() {
		if c.Target == awsfake.TargetGetParameter && c.Body["WithDecryption"] != true {
			t.Errorf("GetParameter %v without WithDecryption", c.Body)
		}
		if c.Target == awsfake.TargetGetSecretValue && strings.Contains(fmt.Sprint(c.Body["SecretId"]), "#") {
			t.Errorf("GetSecretValue sent the #key: %v", c.Body)
		}
	}
	if !strings.Contains(logs.String(), "not SecureString") || strings.Contains(logs.String(), token) {
		t.Errorf("logs should warn about the String parameter without the value: %s", logs.String())
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	s, reg, logs := setup(t)
	s.FailNext(awsfake.TargetGetParameter, "ThrottlingException")
	s.FailNext(awsfake.TargetGetSecretValue, "InternalServiceError")
	tests := []struct {
		ref  string
		want []string // substrings of the error
	}{
		{"ssm:/adofleet/pat", []string{"secret ssm:/adofleet/pat: ssm GetParameter", "ThrottlingException"}},
		{"secretsmanager:adofleet/pat", []string{"secret secretsmanager:adofleet/pat: secretsmanager GetSecretValue", "InternalServiceError"}},
		{"ssm:/adofleet/missing", []string{"secret ssm:/adofleet/missing: parameter not found in SSM Parameter Store"}},
		{"secretsmanager:adofleet/missing", []string{"secret secretsmanager:adofleet/missing: secret not found in Secrets Manager"}},
		{"secretsmanager:adofleet/json#nope", []string{`JSON secret has no key "nope"`}},
		{"secretsmanager:adofleet/json#nested", []string{`key "nested" is not a string, number or boolean`}},
		{"secretsmanager:adofleet/notjson#pat", []string{"secret is not a JSON object"}},
		{"secretsmanager:adofleet/bin", []string{"binary secrets are not supported"}},
		{"ssm:has space", []string{"not an SSM parameter name"}},
		{"secretsmanager:adofleet/json#", []string{"empty JSON key"}},
	}
	for _, tt := range tests {
		_, err := reg.Resolve(context.Background(), tt.ref)
		if err == nil {
			t.Errorf("Resolve(%s): got nil error", tt.ref)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Resolve(%s) error = %q, want it to contain %q", tt.ref, err, w)
			}
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), token[:12]) {
			t.Errorf("Resolve(%s) error leaks the secret: %v", tt.ref, err)
		}
		var se *secret.Error
		if !errors.As(err, &se) || se.Ref != tt.ref {
			t.Errorf("Resolve(%s) error %v: want a *secret.Error naming the reference", tt.ref, err)
		}
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("logs leak the secret: %s", logs.String())
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	_, reg, _ := setup(t)
	for ref, ok := range map[string]bool{
		"ssm:/adofleet/pat":                       true,
		"ssm:adofleet-pat:3":                      true,
		"ssm:arn:aws:ssm:eu-west-1:1:parameter/x": true,
		"ssm:/a b":                                false,
		"secretsmanager:adofleet/pat#key":         true,
		"secretsmanager:adofleet pat":             false,
	} {
		if err := reg.Check(ref); (err == nil) != ok {
			t.Errorf("Check(%s) = %v, want ok=%v", ref, err, ok)
		}
	}
	if err := awssecret.Register(reg, awsfake.New(t).Config()); err == nil {
		t.Error("registering the schemes twice: got nil error")
	}
}

// TestRefresherOverSSM rotates a parameter behind a Refresher with an injected clock, then fails
// refreshes: the last good value is served through the grace period, never logged.
func TestRefresherOverSSM(t *testing.T) {
	t.Parallel()
	s, reg, _ := setup(t)
	var logs bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := secret.NewRefresher(reg, "ssm:/adofleet/pat", secret.RefreshOptions{
		TTL: time.Minute, Grace: 10 * time.Minute, RetryAfter: time.Second,
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	get := func(want string) {
		t.Helper()
		v, err := r.Get(context.Background())
		if err != nil {
			t.Fatalf("Get at %s: %v", now.Format(time.TimeOnly), err)
		}
		if v.Reveal() != want {
			t.Fatalf("Get at %s = %q, want %q", now.Format(time.TimeOnly), v.Reveal(), want)
		}
	}
	get(token)
	s.PutParameter("/adofleet/pat", awsfake.Parameter{Type: "SecureString", Value: "rotated-" + token})
	now = now.Add(59 * time.Second)
	get(token) // still fresh
	now = now.Add(time.Second)
	get("rotated-" + token)
	s.FailNext(awsfake.TargetGetParameter, "ThrottlingException", "ThrottlingException")
	now = now.Add(2 * time.Minute)
	get("rotated-" + token) // served stale, warned
	now = now.Add(2 * time.Second)
	get("rotated-" + token)
	if got := len(s.Calls()); got != 4 {
		t.Errorf("GetParameter calls = %d, want 4 (resolve, rotate, two failed refreshes)", got)
	}
	if !strings.Contains(logs.String(), "serving the last good value") || !strings.Contains(logs.String(), "ThrottlingException") {
		t.Errorf("want a warning naming the throttling, logs: %s", logs.String())
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("logs leak the secret: %s", logs.String())
	}
}
