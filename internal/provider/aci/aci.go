// Package aci runs each agent in its own Azure Container Instances container group.
//
// One container group per agent, created with BeginCreateOrUpdate: a single Linux container
// running Options.Image with restart policy Never, so the agent runs its one job (AZP_ONCE) and
// the container exits. Launch returns as soon as ARM has accepted the request (the initial
// response of the long-running operation); it never waits for the group to be deployed, and an
// asynchronous failure (no capacity in the region, an image that cannot be pulled) shows up in
// List as a terminated instance with its reason.
//
// Clean-up when the job is done: with restart policy Never the exited container leaves its group
// in state Succeeded (or Failed), which still exists in Azure. List reports such a group as
// terminated, with the container's exit status as the reason, and Terminate, which the
// controller calls when it cleans up a terminated instance or scales in, deletes the group
// (BeginDelete; a group already gone is not an error). Nothing in the container deletes itself,
// so the agent image needs no Azure credentials.
//
// Naming and tags. A group's name is derived from the agent's name (lowercase letters, digits and
// single hyphens, at most 63 characters) plus a short hash of controller, pool and agent, so two
// pools or controllers sharing a resource group never collide. Instances are still found by tag,
// never by name: the provider.Tag* keys are used as they are, since Azure tag names may contain
// ':' (only <, >, %, &, \, ? and / are forbidden outside Traffic Manager and Front Door). Azure
// treats tag names case-insensitively, so tags read back are matched ignoring case.
//
// Secrets. The agent's registration token (AZP_TOKEN), and any name in Options.SecureEnv, is sent
// as a secure environment variable (secureValue), which ACI never returns in its API responses; a
// registry password is sent only in the image registry credentials. None is logged.
//
// Idempotency. Before creating a group the provider reads it: a group that already exists with
// the launch's token tag is returned as it is, not re-created or updated.
package aci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2"

	"github.com/adofleet/adofleet/internal/provider"
)

var _ provider.Provider = (*Provider)(nil)

// Defaults and limits.
const (
	DefaultCPU         = 1.0
	DefaultMemoryGB    = 2.0
	DefaultCallTimeout = 30 * time.Second
	// ContainerName is the name of the agent's container inside its group.
	ContainerName = "agent"
	// TokenEnv is the agent's registration token variable; it is always sent as a secure value.
	TokenEnv = "AZP_TOKEN"
	// AgentNameEnv is set per agent.
	AgentNameEnv = "AZP_AGENT_NAME"
	// TagLaunchedAt records when the group was created: ACI's model has no creation time.
	TagLaunchedAt = "adofleet:launchedAt"

	maxConcurrentCalls = 10  // create/get/delete calls in flight per Launch, List or Terminate
	maxNameLen         = 63  // container group names: 1-63 characters
	maxTagValueLen     = 256 // Azure tag values
	maxTagNameLen      = 512 // Azure tag names
	hashLen            = 8   // hex characters of the name's disambiguating hash
)

// Options configure a Provider.
type Options struct {
	SubscriptionID string
	ResourceGroup  string
	// Location of the container groups, e.g. "westeurope".
	Location string
	// Image of the agent container. A launch's Template, when set, replaces it.
	Image string
	// RegistryServer is the image's registry (e.g. "myreg.azurecr.io"). With neither
	// UserAssignedIdentityID nor RegistryUsername the image is pulled anonymously.
	RegistryServer string
	// UserAssignedIdentityID is the resource ID of a user-assigned managed identity that is
	// attached to every group and pulls the image (AcrPull on the registry); exclusive with
	// RegistryUsername.
	UserAssignedIdentityID string
	// RegistryUsername and RegistryPassword authenticate the pull with a username and password
	// (e.g. an ACR token). RegistryPassword is called at every launch, so a rotated secret is
	// picked up; its value is never logged.
	RegistryUsername string
	RegistryPassword func(ctx context.Context) (string, error)
	// CPU cores and memory (GB) requested for the agent container. Defaults 1 and 2.
	CPU      float64
	MemoryGB float64
	// SubnetIDs puts the groups in these virtual network subnets (delegated to
	// Microsoft.ContainerInstance/containerGroups). The groups never get a public IP address.
	SubnetIDs []string
	// Env is plain environment added to every agent (values are never logged).
	Env map[string]string
	// SecureEnv names further variables sent as secure values, besides AZP_TOKEN.
	SecureEnv []string
	// Controller identifies this controller in tags. Required.
	Controller string
	// Credential authenticates to ARM (azidentity in production, azcore/fake in tests). Required.
	Credential azcore.TokenCredential
	// ClientOptions configure the ARM client (retries, transport; tests inject a fake transport).
	ClientOptions *arm.ClientOptions
	Logger        *slog.Logger
	// Clock is the time source (a seam for tests). Default time.Now.
	Clock func() time.Time
	// CallTimeout bounds every ARM call, retries included. Default 30s.
	CallTimeout time.Duration
}

// Provider runs agents as ACI container groups. It is safe for concurrent use.
type Provider struct {
	client *armcontainerinstance.ContainerGroupsClient
	opts   Options
	secure map[string]bool
	log    *slog.Logger
	now    func() time.Time
}

// New validates opts and returns a Provider. It makes no call.
func New(opts Options) (*Provider, error) {
	var missing []string
	for name, v := range map[string]string{"SubscriptionID": opts.SubscriptionID, "ResourceGroup": opts.ResourceGroup,
		"Location": opts.Location, "Image": opts.Image, "Controller": opts.Controller} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if opts.Credential == nil {
		missing = append(missing, "Credential")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("aci provider: options %v are required", missing)
	}
	switch {
	case opts.UserAssignedIdentityID != "" && opts.RegistryUsername != "":
		return nil, errors.New("aci provider: set UserAssignedIdentityID or RegistryUsername, not both")
	case (opts.RegistryUsername != "") != (opts.RegistryPassword != nil):
		return nil, errors.New("aci provider: RegistryUsername and RegistryPassword go together")
	case (opts.UserAssignedIdentityID != "" || opts.RegistryUsername != "") && opts.RegistryServer == "":
		return nil, errors.New("aci provider: RegistryServer is required to authenticate to a registry")
	case opts.CPU < 0 || opts.MemoryGB < 0:
		return nil, errors.New("aci provider: CPU and MemoryGB must not be negative")
	}
	if opts.CPU == 0 {
		opts.CPU = DefaultCPU
	}
	if opts.MemoryGB == 0 {
		opts.MemoryGB = DefaultMemoryGB
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	client, err := armcontainerinstance.NewContainerGroupsClient(opts.SubscriptionID, opts.Credential, opts.ClientOptions)
	if err != nil {
		return nil, fmt.Errorf("aci provider: new container groups client: %w", err)
	}
	p := &Provider{client: client, opts: opts, secure: map[string]bool{TokenEnv: true}, log: opts.Logger, now: opts.Clock}
	for _, name := range opts.SecureEnv {
		p.secure[name] = true
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "provider.aci", "resource_group", opts.ResourceGroup)
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// GroupName returns the container group name of agent in pool: the agent's name made a valid
// name (lowercase letters, digits, single hyphens, no hyphen at either end) and cut so that a
// hyphen and 8 hex characters of a hash of controller, pool and agent fit in 63 characters.
func (p *Provider) GroupName(pool, agent string) string {
	sum := sha256.Sum256([]byte(p.opts.Controller + "\x00" + pool + "\x00" + agent))
	suffix := hex.EncodeToString(sum[:])[:hashLen]
	base := provider.DNSLabel(agent, maxNameLen-1-hashLen)
	if base == "" {
		base = "agent"
	}
	return base + "-" + suffix
}

// groupID is the ARM resource ID of a group of this provider's resource group.
func (p *Provider) groupID(name string) string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerInstance/containerGroups/%s",
		p.opts.SubscriptionID, p.opts.ResourceGroup, name)
}

// call bounds one ARM call (retries included) by Options.CallTimeout.
func (p *Provider) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.opts.CallTimeout)
}

// str dereferences an optional string of the SDK's models.
func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
