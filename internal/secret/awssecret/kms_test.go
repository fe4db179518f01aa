package awssecret_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/secret/awssecret"
	"github.com/adofleet/adofleet/internal/secret/awssecret/awsfake"
)

const webhookURL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"

func TestKMS(t *testing.T) {
	t.Parallel()
	s, reg, logs := setup(t)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	plain := b64(s.Encrypt("k1", []byte(webhookURL+"\n"), nil))
	lambda := b64(s.Encrypt("k1", []byte(webhookURL), map[string]string{"LambdaFunctionName": "notify"}))
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b64File := write("url.b64", []byte(plain+"\n"))
	rawFile := write("url.bin", s.Encrypt("k1", []byte(webhookURL), nil))
	for _, ref := range []string{
		"kms:" + plain,
		"kms:" + lambda + "#LambdaFunctionName=notify",
		"kmsfile:" + b64File,
		"kmsfile:" + rawFile,
	} {
		v, err := reg.Resolve(context.Background(), ref)
		if err != nil {
			t.Errorf("Resolve(%.40s...): %v", ref, err)
			continue
		}
		if got := v.Reveal(); got != webhookURL {
			t.Errorf("Resolve(%.40s...) = %q, want the URL", ref, got)
		}
	}
	for _, c := range s.Calls() {
		if c.Target != awsfake.TargetDecrypt {
			t.Errorf("unexpected call %s", c.Target)
		}
	}

	s.DisableKey("k9")
	off := b64(s.Encrypt("k9", []byte(webhookURL), nil))
	for ref, want := range map[string]string{
		"kms:" + lambda:                    "InvalidCiphertextException: the ciphertext is damaged, or its encryption context differs",
		"kms:" + lambda + "#Other=x":       "InvalidCiphertextException",
		"kms:" + off:                       "kms Decrypt: operation error KMS: Decrypt",
		"kms:not base64!":                  "not a base64 KMS ciphertext",
		"kms:" + plain + "#novalue":        "want KEY=VALUE pairs",
		"kmsfile:" + dir + "/missing":      "read ciphertext file",
		"kms:" + strings.Repeat("A", 9000): "longer than KMS's 6144 bytes",
	} {
		_, err := reg.Resolve(context.Background(), ref)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%.40s...) = %v, want an error containing %q", ref, err, want)
			continue
		}
		if strings.Contains(err.Error(), "XXXXsecret") {
			t.Errorf("error leaks the plaintext: %v", err)
		}
	}
	if strings.Contains(logs.String(), "XXXXsecret") {
		t.Errorf("logs leak the plaintext: %s", logs.String())
	}
	for ref, ok := range map[string]bool{"kms:" + plain: true, "kms:a b": false, "kmsfile:/x#a=b": true, "kmsfile:#a=b": false} {
		if err := reg.Check(ref); (err == nil) != ok {
			t.Errorf("Check(%.40s) = %v, want ok=%v", ref, err, ok)
		}
	}
	for ref, want := range map[string]bool{"kms:x": true, "kmsfile:/p": true, "ssm:/x": true, "secretsmanager:x": true, "env:X": false, "kmsx:y": false} {
		if got := awssecret.IsAWSRef(ref); got != want {
			t.Errorf("IsAWSRef(%s) = %v, want %v", ref, got, want)
		}
	}
}
