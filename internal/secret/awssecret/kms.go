package awssecret

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/adofleet/adofleet/internal/secret"
)

// KMSAPI is the part of *kms.Client the resolver uses.
type KMSAPI interface {
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// KMS resolves kms:CIPHERTEXT, the base64 ciphertext `aws kms encrypt` prints, to its plaintext.
// An encryption context follows a '#' as KEY=VALUE pairs separated by commas
// (kms:AQICAH...#LambdaFunctionName=notify); base64 has no '#', so the split is unambiguous.
// The key is found from the ciphertext's own metadata (symmetric keys), so none is named.
type KMS struct {
	Client KMSAPI
}

// KMSFile resolves kmsfile:PATH: a file holding the ciphertext, base64 or the raw blob, with an
// optional #context after the path as for kms:.
type KMSFile struct {
	Client KMSAPI
}

// maxCiphertext is KMS's limit on a ciphertext blob (CiphertextType max 6144).
const maxCiphertext = 6144

var (
	b64RE     = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)
	ctxPairRE = regexp.MustCompile(`^[^=,]+=[^,]*$`)
)

// Check implements secret.Checker.
func (KMS) Check(target string) error {
	blob, ctx, _ := strings.Cut(target, "#")
	if !b64RE.MatchString(blob) {
		return errors.New("not a base64 KMS ciphertext (what `aws kms encrypt --query CiphertextBlob --output text` prints)")
	}
	if base64.StdEncoding.DecodedLen(len(blob)) > maxCiphertext+2 {
		return fmt.Errorf("ciphertext is longer than KMS's %d bytes", maxCiphertext)
	}
	_, err := encryptionContext(ctx)
	return err
}

// Check implements secret.Checker.
func (KMSFile) Check(target string) error {
	path, ctx, _ := strings.Cut(target, "#")
	if path == "" {
		return errors.New("empty file path")
	}
	_, err := encryptionContext(ctx)
	return err
}

// Resolve implements secret.Resolver. Errors name what failed, never the plaintext.
func (k KMS) Resolve(ctx context.Context, target string) (secret.Value, error) {
	b64, ec, _ := strings.Cut(target, "#")
	blob, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return secret.Value{}, errors.New("ciphertext is not valid base64")
	}
	return decrypt(ctx, k.Client, blob, ec)
}

// Resolve implements secret.Resolver.
func (k KMSFile) Resolve(ctx context.Context, target string) (secret.Value, error) {
	path, ec, _ := strings.Cut(target, "#")
	raw, err := os.ReadFile(path)
	if err != nil {
		return secret.Value{}, fmt.Errorf("read ciphertext file: %w", err)
	}
	blob := raw
	if s := strings.TrimSpace(string(raw)); b64RE.MatchString(s) {
		if d, err := base64.StdEncoding.DecodeString(s); err == nil {
			blob = d
		}
	}
	if len(blob) == 0 {
		return secret.Value{}, errors.New("ciphertext file is empty")
	}
	return decrypt(ctx, k.Client, blob, ec)
}

func decrypt(ctx context.Context, c KMSAPI, blob []byte, ec string) (secret.Value, error) {
	if len(blob) > maxCiphertext {
		return secret.Value{}, fmt.Errorf("ciphertext is %d bytes, longer than KMS's %d", len(blob), maxCiphertext)
	}
	encCtx, err := encryptionContext(ec)
	if err != nil {
		return secret.Value{}, err
	}
	out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: encCtx})
	if err != nil {
		var bad *kmstypes.InvalidCiphertextException
		if errors.As(err, &bad) {
			return secret.Value{}, errors.New("kms Decrypt: InvalidCiphertextException: the ciphertext is damaged, or its encryption context differs (values encrypted by the Lambda console need #LambdaFunctionName=NAME)")
		}
		return secret.Value{}, fmt.Errorf("kms Decrypt: %w", err)
	}
	if len(out.Plaintext) == 0 {
		return secret.Value{}, errors.New("kms Decrypt returned no plaintext")
	}
	return secret.New(strings.TrimRight(string(out.Plaintext), "\r\n")), nil
}

// encryptionContext parses KEY=VALUE,KEY2=VALUE2; "" is no context.
func encryptionContext(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	m := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if !ctxPairRE.MatchString(pair) {
			return nil, fmt.Errorf("encryption context %q: want KEY=VALUE pairs separated by commas", s)
		}
		k, v, _ := strings.Cut(pair, "=")
		m[k] = v
	}
	return m, nil
}

var (
	_ secret.Resolver = KMS{}
	_ secret.Checker  = KMS{}
	_ secret.Resolver = KMSFile{}
	_ secret.Checker  = KMSFile{}
)
