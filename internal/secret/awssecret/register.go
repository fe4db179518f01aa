package awssecret

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/adofleet/adofleet/internal/secret"
)

// Scheme names registered by Register.
const (
	SchemeSSM            = "ssm"
	SchemeSecretsManager = "secretsmanager"
)

// Registrar is where schemes are registered: a *secret.Registry, usually secret.Default().
type Registrar interface {
	Register(scheme string, res secret.Resolver) error
}

// Register adds ssm: and secretsmanager: to reg, with clients built from cfg (its region,
// credentials, retryer and BaseEndpoint).
func Register(reg Registrar, cfg aws.Config) error {
	return RegisterClients(reg, ssm.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg))
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
