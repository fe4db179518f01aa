package awssecret

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/adofleet/adofleet/internal/secret"
)

// SecretsManagerAPI is the part of *secretsmanager.Client the resolver uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManager resolves secretsmanager:ID or secretsmanager:ID#KEY. ID is a secret's name or
// ARN; with #KEY the secret must be a JSON object and KEY picks one of its members (the way the
// console stores key/value secrets). Secret names cannot contain '#', so the split is unambiguous.
type SecretsManager struct {
	Client SecretsManagerAPI
}

// smIDRE: names are letters, digits and /_+=.@-; ARNs add ':'.
var smIDRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@:\-]+$`)

// Check implements secret.Checker.
func (SecretsManager) Check(target string) error {
	id, key, hasKey := strings.Cut(target, "#")
	if len(id) > 2048 || !smIDRE.MatchString(id) {
		return errors.New("not a Secrets Manager secret name or ARN (letters, digits and /_+=.@-:)")
	}
	if hasKey && key == "" {
		return errors.New("empty JSON key after '#'")
	}
	return nil
}

// Resolve implements secret.Resolver.
func (s SecretsManager) Resolve(ctx context.Context, target string) (secret.Value, error) {
	id, key, hasKey := strings.Cut(target, "#")
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		var nf *smtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return secret.Value{}, errors.New("secret not found in Secrets Manager (check its name or ARN, the region and the IAM policy's secretsmanager:GetSecretValue resource)")
		}
		return secret.Value{}, fmt.Errorf("secretsmanager GetSecretValue: %w", err)
	}
	if out.SecretString == nil {
		return secret.Value{}, errors.New("secret has no SecretString (binary secrets are not supported)")
	}
	if !hasKey {
		return secret.New(*out.SecretString), nil
	}
	return jsonMember(*out.SecretString, key)
}

// jsonMember picks key out of a JSON object. Its errors never include the decoder's message,
// which can quote part of the secret.
func jsonMember(doc, key string) (secret.Value, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
		return secret.Value{}, fmt.Errorf("secret is not a JSON object, so #%s cannot pick a key from it", key)
	}
	raw, ok := obj[key]
	if !ok {
		return secret.Value{}, fmt.Errorf("JSON secret has no key %q", key)
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return secret.Value{}, fmt.Errorf("JSON secret key %q: malformed string", key)
		}
		return secret.New(s), nil
	case len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') || raw[0] == 't' || raw[0] == 'f'):
		return secret.New(string(raw)), nil // a number or boolean, as written
	default:
		return secret.Value{}, fmt.Errorf("JSON secret key %q is not a string, number or boolean", key)
	}
}

var (
	_ secret.Resolver = SecretsManager{}
	_ secret.Checker  = SecretsManager{}
)
