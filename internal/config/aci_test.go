package config_test

import (
	"strings"
	"testing"

	"github.com/adofleet/adofleet/internal/config"
)

func TestACIProviderValidate(t *testing.T) {
	t.Parallel()
	const sub = "00000000-0000-0000-0000-000000000001"
	valid := func() config.ACIProvider {
		return config.ACIProvider{
			SubscriptionID: sub, ResourceGroup: "agents-rg", Location: "westeurope", Image: "myreg.azurecr.io/ado-agent:1",
			RegistryServer: "myreg.azurecr.io", RegistryUsername: "puller", RegistryPassword: "env:ACR_PASSWORD",
			SubnetIDs: []string{"/subscriptions/" + sub + "/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aci"},
		}
	}
	const uai = "/subscriptions/" + sub + "/resourceGroups/id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller"
	tests := []validateCase[config.ACIProvider]{
		{"valid", func(*config.ACIProvider) {}, nil},
		{"valid managed identity", func(p *config.ACIProvider) {
			p.RegistryUsername, p.RegistryPassword, p.UserAssignedIdentityID = "", "", uai
		}, nil},
		{"valid anonymous", func(p *config.ACIProvider) {
			p.RegistryServer, p.RegistryUsername, p.RegistryPassword, p.SubnetIDs = "", "", "", nil
		}, nil},
		{"missing required", func(p *config.ACIProvider) { p.SubscriptionID, p.ResourceGroup, p.Location, p.Image = "", "", "", "" },
			[]string{"providers.aci.subscriptionId", "providers.aci.resourceGroup", "providers.aci.location", "providers.aci.image"}},
		{"malformed ids", func(p *config.ACIProvider) {
			p.SubscriptionID, p.Location, p.SubnetIDs = "my-sub", "West Europe", []string{"subnet-1"}
		}, []string{"providers.aci.subscriptionId", "providers.aci.location", "providers.aci.subnetIds[0]"}},
		{"identity and username", func(p *config.ACIProvider) { p.UserAssignedIdentityID = uai },
			[]string{"providers.aci.userAssignedIdentityId"}},
		{"bad identity id", func(p *config.ACIProvider) {
			p.RegistryUsername, p.RegistryPassword, p.UserAssignedIdentityID = "", "", "puller"
		}, []string{"providers.aci.userAssignedIdentityId"}},
		{"username without password", func(p *config.ACIProvider) { p.RegistryPassword = "" },
			[]string{"providers.aci.registryPassword"}},
		{"credentials without server", func(p *config.ACIProvider) { p.RegistryServer = "" },
			[]string{"providers.aci.registryServer"}},
		{"literal password", func(p *config.ACIProvider) { p.RegistryPassword = "hunter2hunter2" },
			[]string{"providers.aci.registryPassword"}},
		{"token as plain env", func(p *config.ACIProvider) { p.Env = map[string]string{"AZP_TOKEN": "x"} },
			[]string{"providers.aci.env.AZP_TOKEN"}},
		{"negative sizes", func(p *config.ACIProvider) { p.CPU, p.MemoryGB = -1, -2 },
			[]string{"providers.aci.cpu", "providers.aci.memoryGB"}},
	}
	testValidate(t, valid, (*config.ACIProvider).Validate, "providers.aci", tests, func(t *testing.T, msg string) {
		if strings.Contains(msg, "hunter2") {
			t.Errorf("message %q echoes the literal secret", msg)
		}
	})
}
