package config_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/secret/awssecret"
)

// TestMain registers ssm: and secretsmanager: as the adofleet binary does before loading a
// config, so that the examples and test files may use them. Checking a reference makes no AWS
// call, so a zero aws.Config is enough.
func TestMain(m *testing.M) {
	if err := awssecret.Register(secret.Default(), aws.Config{}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
