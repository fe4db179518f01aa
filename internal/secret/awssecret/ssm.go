// Package awssecret resolves the secret schemes backed by AWS: ssm:NAME (SSM Parameter Store,
// SecureString decrypted), secretsmanager:ID[#key] (Secrets Manager), and kms:CIPHERTEXT and
// kmsfile:PATH (values encrypted with KMS, decrypted with Decrypt).
package awssecret

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/adofleet/adofleet/internal/secret"
)

// SSMAPI is the part of *ssm.Client the resolver uses.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SSM resolves ssm:NAME, where NAME is a parameter name (/adofleet/pat), optionally with a
// :version or :label selector, or a parameter ARN.
type SSM struct {
	Client SSMAPI
}

// ssmNameRE: parameter names are letters, digits and _.-/; ARNs and selectors add ':'.
var ssmNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-/:]+$`)

// Check implements secret.Checker.
func (SSM) Check(name string) error {
	if len(name) > 2048 || !ssmNameRE.MatchString(name) {
		return errors.New("not an SSM parameter name or ARN (letters, digits and _.-/:)")
	}
	return nil
}

// Resolve implements secret.Resolver. Errors name what failed, never the value; the registry
// adds the reference.
func (s SSM) Resolve(ctx context.Context, name string) (secret.Value, error) {
	out, err := s.Client.GetParameter(ctx, &ssm.GetParameterInput{
		Name:           aws.String(name),
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		var nf *ssmtypes.ParameterNotFound
		if errors.As(err, &nf) {
			return secret.Value{}, errors.New("parameter not found in SSM Parameter Store (check its name, the region and the IAM policy's ssm:GetParameter resource)")
		}
		return secret.Value{}, fmt.Errorf("ssm GetParameter: %w", err)
	}
	p := out.Parameter
	if p == nil || p.Value == nil || *p.Value == "" {
		return secret.Value{}, errors.New("parameter has no value")
	}
	v := secret.New(*p.Value)
	if p.Type != ssmtypes.ParameterTypeSecureString {
		v = v.WithWarning(fmt.Sprintf("SSM parameter type is %s, not SecureString: it is stored unencrypted", p.Type))
	}
	return v, nil
}

var (
	_ secret.Resolver = SSM{}
	_ secret.Checker  = SSM{}
)
