package aci_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2/fake"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/aci"
)

const (
	testSub        = "00000000-0000-0000-0000-000000000001"
	testRG         = "agents-rg"
	testController = "ctl-1"
	testPool       = "linux"
	testToken      = "s3cr3t-registration-token"
	testSubnet     = "/subscriptions/" + testSub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aci"
	testIdentity   = "/subscriptions/" + testSub + "/resourceGroups/id-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// apiFailure is an ARM error answer: HTTP status and error code.
type apiFailure struct {
	status int
	code   string
}

// azure is an in-memory resource group behind the SDK's own fake ContainerGroupsServer, so every
// call goes through the real client's serialisation, pipeline and error handling. Like ACI, it
// never returns secure environment values.
type azure struct {
	async    bool // creations answer "in progress" first, as ARM does
	pageSize int

	mu       sync.Mutex
	groups   map[string]armcontainerinstance.ContainerGroup // by name
	received map[string]armcontainerinstance.ContainerGroup // create bodies as sent, by name
	creates  int
	failures map[string]apiFailure // by agent tag: creation fails
}

func newAzure() *azure {
	return &azure{
		async: true, pageSize: 2,
		groups: map[string]armcontainerinstance.ContainerGroup{}, received: map[string]armcontainerinstance.ContainerGroup{},
		failures: map[string]apiFailure{},
	}
}

func (a *azure) server() *fake.ContainerGroupsServer {
	return &fake.ContainerGroupsServer{
		BeginCreateOrUpdate:         a.create,
		Get:                         a.get,
		NewListByResourceGroupPager: a.list,
		BeginDelete:                 a.delete,
	}
}

func (a *azure) create(_ context.Context, rg, name string, g armcontainerinstance.ContainerGroup, _ *armcontainerinstance.ContainerGroupsClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armcontainerinstance.ContainerGroupsClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.creates++
	if f, ok := a.failures[str(g.Tags[provider.TagAgent])]; ok {
		errResp.SetResponseError(f.status, f.code)
		return
	}
	a.received[name] = clone(g)
	g = clone(g)
	g.ID = to.Ptr(groupID(rg, name))
	g.Name = to.Ptr(name)
	g.Properties.ProvisioningState = to.Ptr("Pending")
	for _, c := range g.Properties.Containers {
		for _, e := range c.Properties.EnvironmentVariables {
			e.SecureValue = nil
		}
	}
	for _, rc := range g.Properties.ImageRegistryCredentials {
		rc.Password = nil
	}
	a.groups[name] = g
	if a.async {
		resp.AddNonTerminalResponse(http.StatusCreated, nil)
	}
	resp.SetTerminalResponse(http.StatusCreated, armcontainerinstance.ContainerGroupsClientCreateOrUpdateResponse{ContainerGroup: clone(g)}, nil)
	return
}

func (a *azure) get(_ context.Context, _, name string, _ *armcontainerinstance.ContainerGroupsClientGetOptions) (resp azfake.Responder[armcontainerinstance.ContainerGroupsClientGetResponse], errResp azfake.ErrorResponder) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.groups[name]
	if !ok {
		errResp.SetResponseError(http.StatusNotFound, "ResourceNotFound")
		return
	}
	resp.SetResponse(http.StatusOK, armcontainerinstance.ContainerGroupsClientGetResponse{ContainerGroup: clone(g)}, nil)
	return
}

// list pages through the groups by name; like the real list operation it leaves out instance
// views, which the provider then reads with Get.
func (a *azure) list(string, *armcontainerinstance.ContainerGroupsClientListByResourceGroupOptions) (resp azfake.PagerResponder[armcontainerinstance.ContainerGroupsClientListByResourceGroupResponse]) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var all []*armcontainerinstance.ContainerGroup
	for _, name := range slices.Sorted(maps.Keys(a.groups)) {
		g := clone(a.groups[name])
		g.Properties.InstanceView = nil
		for _, c := range g.Properties.Containers {
			c.Properties.InstanceView = nil
		}
		all = append(all, &g)
	}
	if len(all) == 0 {
		resp.AddPage(http.StatusOK, armcontainerinstance.ContainerGroupsClientListByResourceGroupResponse{}, nil)
	}
	for page := range slices.Chunk(all, a.pageSize) {
		resp.AddPage(http.StatusOK, armcontainerinstance.ContainerGroupsClientListByResourceGroupResponse{
			ContainerGroupListResult: armcontainerinstance.ContainerGroupListResult{Value: page},
		}, nil)
	}
	return
}

func (a *azure) delete(_ context.Context, _, name string, _ *armcontainerinstance.ContainerGroupsClientBeginDeleteOptions) (resp azfake.PollerResponder[armcontainerinstance.ContainerGroupsClientDeleteResponse], errResp azfake.ErrorResponder) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.groups[name]; !ok {
		errResp.SetResponseError(http.StatusNotFound, "ResourceNotFound")
		return
	}
	delete(a.groups, name)
	resp.SetTerminalResponse(http.StatusOK, armcontainerinstance.ContainerGroupsClientDeleteResponse{}, nil)
	return
}

// put stores a group as if Azure held it.
func (a *azure) put(g armcontainerinstance.ContainerGroup) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g.ID = to.Ptr(groupID(testRG, *g.Name))
	a.groups[*g.Name] = clone(g)
}

func (a *azure) names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.groups))
}

func (a *azure) sent(name string) (armcontainerinstance.ContainerGroup, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.received[name]
	return g, ok
}

func (a *azure) createCalls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.creates
}

// newProvider returns a provider talking to az through the SDK's fake transport.
func newProvider(t *testing.T, az *azure, mod func(*aci.Options)) *aci.Provider {
	t.Helper()
	opts := aci.Options{
		SubscriptionID: testSub,
		ResourceGroup:  testRG,
		Location:       "westeurope",
		Image:          "myreg.azurecr.io/ado-agent:1",
		Controller:     testController,
		Credential:     validCredential(),
		ClientOptions: &arm.ClientOptions{ClientOptions: policy.ClientOptions{
			Transport: fake.NewContainerGroupsServerTransport(az.server()),
		}},
		Clock: func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&opts)
	}
	p, err := aci.New(opts)
	if err != nil {
		t.Fatalf("aci.New: %v", err)
	}
	return p
}

func groupID(rg, name string) string {
	return "/subscriptions/" + testSub + "/resourceGroups/" + rg + "/providers/Microsoft.ContainerInstance/containerGroups/" + name
}

// clone deep-copies a group through the SDK's own JSON serialisation.
func clone(g armcontainerinstance.ContainerGroup) armcontainerinstance.ContainerGroup {
	b, err := json.Marshal(g)
	if err != nil {
		panic(err)
	}
	var out armcontainerinstance.ContainerGroup
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func launchRequest(token string, agents ...string) provider.LaunchRequest {
	req := provider.LaunchRequest{
		Token: token,
		Pool:  testPool,
		Tags:  provider.TagsFor(testPool, testController, "", token),
		Env:   map[string]string{"AZP_URL": "https://dev.azure.com/org", "AZP_POOL": testPool, "AZP_TOKEN": testToken},
	}
	for _, a := range agents {
		req.Agents = append(req.Agents, provider.AgentSpec{Name: a})
	}
	return req
}

// envOf returns the agent container's environment: plain values and secure values apart.
func envOf(g armcontainerinstance.ContainerGroup) (plain, secure map[string]string) {
	plain, secure = map[string]string{}, map[string]string{}
	for _, c := range g.Properties.Containers {
		for _, e := range c.Properties.EnvironmentVariables {
			if e.SecureValue != nil {
				secure[*e.Name] = *e.SecureValue
			}
			if e.Value != nil {
				plain[*e.Name] = *e.Value
			}
		}
	}
	return plain, secure
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func validCredential() *azfake.TokenCredential { return &azfake.TokenCredential{} }
