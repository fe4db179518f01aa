package awssecret

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/adofleet/adofleet/internal/secret"
)

// Scheme names registered by Register.
const (
	SchemeSSM            = "ssm"
	SchemeSecretsManager = "secretsmanager"
	SchemeKMS            = "kms"
	SchemeKMSFile        = "kmsfile"
)

// IsAWSRef reports whether ref is resolved by one of the schemes Register adds, so callers know
// whether AWS credentials are needed.
func IsAWSRef(ref string) bool {
	scheme, _, ok := strings.Cut(ref, ":")
	return ok && (scheme == SchemeSSM || scheme == SchemeSecretsManager || scheme == SchemeKMS || scheme == SchemeKMSFile)
}

// Registrar is where schemes are registered: a *secret.Registry, usually secret.Default().
type Registrar interface {
	Register(scheme string, res secret.Resolver) error
}

// Register adds ssm:, secretsmanager:, kms: and kmsfile: to reg, with clients built from cfg
// (its region, credentials, retryer and BaseEndpoint).
func Register(reg Registrar, cfg aws.Config) error {
	if err := RegisterClients(reg, ssm.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg)); err != nil {
		return err
	}
	return RegisterKMS(reg, kms.NewFromConfig(cfg))
}

// RegisterKMS adds kms: and kmsfile: with a client the caller built.
func RegisterKMS(reg Registrar, c KMSAPI) error {
	if err := reg.Register(SchemeKMS, KMS{Client: c}); err != nil {
		return fmt.Errorf("awssecret: %w", err)
	}
	if err := reg.Register(SchemeKMSFile, KMSFile{Client: c}); err != nil {
		return fmt.Errorf("awssecret: %w", err)
	}
	return nil
}

// RegisterClients is Register with clients the caller built.
func RegisterClients(reg Registrar, ssmc SSMAPI, smc SecretsManagerAPI) error {
	if err := reg.Register(SchemeSSM, SSM{Client: ssmc}); err != nil {
		return fmt.Errorf("awssecret: %w", err)
	}
	if err := reg.Register(SchemeSecretsManager, SecretsManager{Client: smc}); err != nil {
		return fmt.Errorf("awssecret: %w", err)
	}
	return nil
}
