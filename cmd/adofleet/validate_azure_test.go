package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
)

func TestValidateAcceptsTheAzureExample(t *testing.T) {
	t.Parallel()
	const f = "../../examples/azure-aci.yaml"
	out, stderr, err := runCLI(context.Background(), "validate", "-c", f)
	if err != nil {
		t.Fatalf("validate %s: %v\n%s", f, err, stderr)
	}
	if !strings.Contains(out, "ok") {
		t.Errorf("validate %s: output %q, want ok", f, out)
	}
}

func TestValidateReportsACIErrorsByLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := `organization:
  url: https://dev.azure.com/contoso
  pat: env:ADO_PAT
providers:
  aci:
    subscriptionId: 00000000-0000-0000-0000-000000000000
    resourceGroup: agents
    location: westeurope
    image: myreg.azurecr.io/agent:1
    registryUsername: puller
    registryPassword: s3cret-literal-value
    memoryGB: -2
pools:
  - name: aci
    provider: aci
    max: 2
    resources:
      cpu: 1 vCPU
`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCLI(context.Background(), "validate", "-c", path)
	var ec exitCodeError
	if !asExit(err, &ec) || ec.code != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
	for _, want := range []string{
		"bad.yaml:5: providers.aci.registryServer: required to authenticate to a registry", // absent: the section's line
		"bad.yaml:11: providers.aci.registryPassword: looks like a literal secret (not shown)",
		"bad.yaml:12: providers.aci.memoryGB: must not be negative",
		`bad.yaml:18: pools[0].resources.cpu: "1 vCPU" is not an ACI size`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "s3cret-literal-value") {
		t.Errorf("validate echoed the literal password:\n%s", stderr)
	}
}

// TestBuildProvidersRegistersACI builds the providers of the Azure example: the aci provider is
// registered (behind the instrumenting wrapper) without any Azure call.
func TestBuildProvidersRegistersACI(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("../../examples/azure-aci.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Providers.ACI.RegistryUsername, cfg.Providers.ACI.UserAssignedIdentityID = "puller", ""
	cfg.Providers.ACI.RegistryPassword = "env:ADOFLEET_TEST_UNSET_ACR_PASSWORD"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	secrets, err := newSecrets(nil, log)
	if err != nil {
		t.Fatal(err)
	}
	providers, err := buildProviders(cfg, nil, secrets, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatalf("buildProviders: %v", err)
	}
	if got := providers.Names(); !slices.Contains(got, "aci") {
		t.Errorf("providers = %v, want aci among them", got)
	}
}
