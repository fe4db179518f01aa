package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/adofleet/adofleet/internal/secret"
)

// ACIProvider runs each agent in its own Azure Container Instances container group. It mirrors
// aci.Options; cmd/adofleet maps one to the other (Azure credentials come from azidentity's
// default chain: managed identity, workload identity, environment, Azure CLI).
type ACIProvider struct {
	SubscriptionID string `yaml:"subscriptionId" json:"subscriptionId"`
	ResourceGroup  string `yaml:"resourceGroup" json:"resourceGroup"`
	// Location of the container groups, e.g. westeurope.
	Location string `yaml:"location" json:"location"`
	// Image of the agent container; a pool's template replaces it.
	Image string `yaml:"image" json:"image"`
	// RegistryServer of the image, e.g. myreg.azurecr.io. Without userAssignedIdentityId or
	// registryUsername the image is pulled anonymously.
	RegistryServer string `yaml:"registryServer,omitempty" json:"registryServer,omitempty"`
	// UserAssignedIdentityID is the resource ID of a user-assigned managed identity that pulls
	// the image (AcrPull); exclusive with registryUsername.
	UserAssignedIdentityID string `yaml:"userAssignedIdentityId,omitempty" json:"userAssignedIdentityId,omitempty"`
	// RegistryUsername and RegistryPassword (a secret reference) authenticate the pull.
	RegistryUsername string `yaml:"registryUsername,omitempty" json:"registryUsername,omitempty"`
	RegistryPassword string `yaml:"registryPassword,omitempty" json:"registryPassword,omitempty"`
	// CPU cores and memory (GB) of the agent container (defaults 1 and 2).
	CPU      float64 `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	MemoryGB float64 `yaml:"memoryGB,omitempty" json:"memoryGB,omitempty"`
	// SubnetIDs of delegated subnets: the groups run in the virtual network, without public IP.
	SubnetIDs []string `yaml:"subnetIds,omitempty" json:"subnetIds,omitempty"`
	// Env adds plain environment variables to every agent.
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	// SecureEnv names variables (besides AZP_TOKEN) sent as secure values, hidden by ACI.
	SecureEnv []string `yaml:"secureEnv,omitempty" json:"secureEnv,omitempty"`
	// CallTimeout bounds each ARM call, retries included (default 30s).
	CallTimeout Duration `yaml:"callTimeout,omitempty" json:"callTimeout,omitempty"`
}

var (
	azureGUIDRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	azureRGRE     = regexp.MustCompile(`^[-\w._()]{1,90}$`)
	azureLocRE    = regexp.MustCompile(`^[a-z0-9]{2,40}$`)
	azureSubnetRE = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$`)
	azureUAIRE    = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$`)
)

// Validate returns one message per problem, each prefixed with the field's path under path
// (e.g. "providers.aci.image: required").
func (p *ACIProvider) Validate(path string) []string {
	var msgs []string
	p.check(func(field, msg string) { msgs = append(msgs, path+"."+field+": "+msg) })
	return msgs
}

func (p *ACIProvider) check(report func(field, msg string)) {
	add := func(field, format string, args ...any) { report(field, fmt.Sprintf(format, args...)) }
	switch {
	case p.SubscriptionID == "":
		add("subscriptionId", "required: the subscription that holds the container groups")
	case !azureGUIDRE.MatchString(p.SubscriptionID):
		add("subscriptionId", "%q is not a subscription ID (a GUID)", p.SubscriptionID)
	}
	switch {
	case p.ResourceGroup == "":
		add("resourceGroup", "required: the resource group the container groups are created in")
	case !azureRGRE.MatchString(p.ResourceGroup) || strings.HasSuffix(p.ResourceGroup, "."):
		add("resourceGroup", "%q is not a resource group name (1-90 letters, digits, '-', '_', '.', '(', ')', not ending in '.')", p.ResourceGroup)
	}
	switch {
	case p.Location == "":
		add("location", "required, e.g. westeurope")
	case !azureLocRE.MatchString(p.Location):
		add("location", "%q is not an Azure location name such as westeurope (lowercase, no spaces)", p.Location)
	}
	if p.Image == "" {
		add("image", "required: the agent's container image, e.g. myreg.azurecr.io/ado-agent:1")
	}
	p.checkRegistry(add)
	if p.CPU < 0 {
		add("cpu", "must not be negative")
	}
	if p.MemoryGB < 0 {
		add("memoryGB", "must not be negative")
	}
	for i, id := range p.SubnetIDs {
		if !azureSubnetRE.MatchString(id) {
			add(fmt.Sprintf("subnetIds[%d]", i), "%q is not a subnet resource ID (/subscriptions/.../providers/Microsoft.Network/virtualNetworks/VNET/subnets/SUBNET)", id)
		}
	}
	if _, ok := p.Env["AZP_TOKEN"]; ok {
		add("env.AZP_TOKEN", "the registration token must not be a plain variable; it comes from organization.agentToken and is always sent as a secure value")
	}
	if p.CallTimeout < 0 {
		add("callTimeout", "must be a positive duration, got %q", p.CallTimeout.String())
	}
}

// checkRegistry checks the pull credentials: a managed identity, a username and password, or none.
func (p *ACIProvider) checkRegistry(add func(field, format string, args ...any)) {
	if p.UserAssignedIdentityID != "" && p.RegistryUsername != "" {
		add("userAssignedIdentityId", "userAssignedIdentityId and registryUsername are exclusive; set only one")
	}
	if p.UserAssignedIdentityID != "" && !azureUAIRE.MatchString(p.UserAssignedIdentityID) {
		add("userAssignedIdentityId", "%q is not a user-assigned identity resource ID (/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)", p.UserAssignedIdentityID)
	}
	if (p.RegistryUsername == "") != (p.RegistryPassword == "") {
		add("registryPassword", "registryUsername and registryPassword go together")
	}
	if (p.UserAssignedIdentityID != "" || p.RegistryUsername != "") && p.RegistryServer == "" {
		add("registryServer", "required to authenticate to a registry, e.g. myreg.azurecr.io")
	}
	if p.RegistryPassword == "" {
		return
	}
	// Like organization.pat: a reference, never the secret, and never echoed.
	err := secret.Check(p.RegistryPassword)
	switch {
	case err == nil:
	case errors.Is(err, secret.ErrNotReference):
		add("registryPassword", "looks like a literal secret (not shown); write a reference such as env:ACR_PASSWORD or file:PATH")
	default:
		add("registryPassword", "%v", err)
	}
}

// checkACISize checks a pool's container size in ACI's notation: CPU cores and memory in GB, as
// positive decimal numbers ("" keeps providers.aci.cpu and memoryGB).
func checkACISize(cpu, memory string, report func(field, msg string)) {
	for _, f := range []struct{ field, value, unit string }{{"cpu", cpu, "CPU cores"}, {"memory", memory, "memory in GB"}} {
		if f.value == "" {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(f.value), 64); err != nil || v <= 0 {
			report(f.field, fmt.Sprintf("%q is not an ACI size: %s as a positive number such as \"1.5\"", f.value, f.unit))
		}
	}
}
