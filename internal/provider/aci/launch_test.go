package aci_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/aci"
)

// dnsLabel is ACI's rule for group names: lowercase letters, digits and single hyphens, no
// hyphen at either end, 1-63 characters.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func TestLaunchCreatesOneGroupPerAgent(t *testing.T) {
	t.Parallel()
	az := newAzure()
	p := newProvider(t, az, func(o *aci.Options) {
		o.SubnetIDs = []string{testSubnet}
		o.RegistryServer = "myreg.azurecr.io"
		o.UserAssignedIdentityID = testIdentity
		o.Env = map[string]string{"TEAM": "infra"}
	})
	agents := []string{"linux-agent-1", "Linux_Agent.2", "linux-agent-3"}
	insts, err := p.Launch(context.Background(), launchRequest("tok-1", agents...))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if got, want := len(insts), 3; got != want {
		t.Fatalf("got %d instances, want %d", got, want)
	}
	byAgent := map[string]provider.Instance{}
	for _, in := range insts {
		byAgent[in.AgentName] = in
	}
	for _, agent := range agents {
		name := p.GroupName(testPool, agent)
		if !dnsLabel.MatchString(name) || regexp.MustCompile(`--`).MatchString(name) {
			t.Errorf("group name %q of agent %q is not a valid container group name", name, agent)
		}
		in, ok := byAgent[agent]
		if !ok {
			t.Errorf("no instance for agent %q", agent)
			continue
		}
		if got, want := in.ID, groupID(testRG, name); got != want {
			t.Errorf("agent %q: ID = %q, want %q", agent, got, want)
		}
		// The fake answers "in progress" first: Launch must not wait for the deployment.
		if got, want := in.State, provider.StatePending; got != want {
			t.Errorf("agent %q: state = %q, want %q", agent, got, want)
		}
		if !in.LaunchedAt.Equal(testNow) {
			t.Errorf("agent %q: LaunchedAt = %v, want %v", agent, in.LaunchedAt, testNow)
		}

		g, ok := az.sent(name)
		if !ok {
			t.Errorf("agent %q: no group %q was created", agent, name)
			continue
		}
		wantTags := map[string]string{
			provider.TagPool: testPool, provider.TagController: testController,
			provider.TagAgent: agent, provider.TagToken: "tok-1", aci.TagLaunchedAt: "2026-03-01T12:00:00Z",
		}
		gotTags := map[string]string{}
		for k, v := range g.Tags {
			gotTags[k] = str(v)
		}
		if diff := cmp.Diff(wantTags, gotTags); diff != "" {
			t.Errorf("agent %q: tags (-want +got):\n%s", agent, diff)
		}
		plain, secure := envOf(g)
		wantPlain := map[string]string{"AZP_URL": "https://dev.azure.com/org", "AZP_POOL": testPool, "AZP_AGENT_NAME": agent, "TEAM": "infra"}
		if diff := cmp.Diff(wantPlain, plain); diff != "" {
			t.Errorf("agent %q: plain env (-want +got):\n%s", agent, diff)
		}
		if diff := cmp.Diff(map[string]string{"AZP_TOKEN": testToken}, secure); diff != "" {
			t.Errorf("agent %q: secure env (-want +got):\n%s", agent, diff)
		}
		props := g.Properties
		if got, want := str(g.Location), "westeurope"; got != want {
			t.Errorf("agent %q: location = %q, want %q", agent, got, want)
		}
		if props.RestartPolicy == nil || *props.RestartPolicy != armcontainerinstance.ContainerGroupRestartPolicyNever {
			t.Errorf("agent %q: restart policy = %v, want Never", agent, props.RestartPolicy)
		}
		if props.IPAddress != nil {
			t.Errorf("agent %q: group has an IP address %+v, want none", agent, *props.IPAddress)
		}
		if len(props.SubnetIDs) != 1 || str(props.SubnetIDs[0].ID) != testSubnet {
			t.Errorf("agent %q: subnets = %v, want [%s]", agent, props.SubnetIDs, testSubnet)
		}
		if g.Identity == nil || g.Identity.UserAssignedIdentities[testIdentity] == nil {
			t.Errorf("agent %q: identity %q not attached", agent, testIdentity)
		}
		if len(props.ImageRegistryCredentials) != 1 || str(props.ImageRegistryCredentials[0].Identity) != testIdentity ||
			str(props.ImageRegistryCredentials[0].Server) != "myreg.azurecr.io" || props.ImageRegistryCredentials[0].Password != nil {
			t.Errorf("agent %q: registry credentials = %+v, want the managed identity for myreg.azurecr.io", agent, props.ImageRegistryCredentials)
		}
		c := props.Containers[0].Properties
		if got, want := str(c.Image), "myreg.azurecr.io/ado-agent:1"; got != want {
			t.Errorf("agent %q: image = %q, want %q", agent, got, want)
		}
		if got := *c.Resources.Requests.CPU; got != aci.DefaultCPU {
			t.Errorf("agent %q: cpu = %v, want %v", agent, got, aci.DefaultCPU)
		}
	}
}

func TestLaunchIsIdempotentPerToken(t *testing.T) {
	t.Parallel()
	az := newAzure()
	p := newProvider(t, az, nil)
	ctx := context.Background()
	first, err := p.Launch(ctx, launchRequest("tok-1", "a1", "a2", "a3"))
	if err != nil {
		t.Fatalf("first Launch: %v", err)
	}
	again, err := p.Launch(ctx, launchRequest("tok-1", "a1", "a2", "a3"))
	if err != nil {
		t.Fatalf("second Launch: %v", err)
	}
	if got, want := az.createCalls(), 3; got != want {
		t.Errorf("create calls = %d, want %d (a relaunch with the same token creates nothing)", got, want)
	}
	ids := func(insts []provider.Instance) []string {
		var out []string
		for _, in := range insts {
			out = append(out, in.ID)
		}
		return out
	}
	if diff := cmp.Diff(ids(first), ids(again)); diff != "" {
		t.Errorf("relaunch returned other instances (-first +again):\n%s", diff)
	}

	// Another launch must never take over (update) a group it did not create.
	_, err = p.Launch(ctx, launchRequest("tok-2", "a1"))
	var partial *provider.PartialError
	if !errors.As(err, &partial) || partial.Failed["a1"] == nil {
		t.Fatalf("Launch with another token over an existing group: err = %v, want a PartialError for a1", err)
	}
	if got, want := az.createCalls(), 3; got != want {
		t.Errorf("create calls = %d, want %d", got, want)
	}
}

func TestLaunchReturnsAcceptedResultWhenSynchronous(t *testing.T) {
	t.Parallel()
	az := newAzure()
	az.async = false
	p := newProvider(t, az, nil)
	insts, err := p.Launch(context.Background(), launchRequest("tok-1", "a1"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if len(insts) != 1 || insts[0].AgentName != "a1" || insts[0].State != provider.StatePending ||
		insts[0].ID != groupID(testRG, p.GroupName(testPool, "a1")) {
		t.Errorf("instances = %+v, want one pending instance of a1", insts)
	}
}

func TestLaunchPartialFailureIsTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		failure apiFailure
		want    error // nil: neither typed error
	}{
		{"quota", apiFailure{http.StatusBadRequest, "ContainerGroupQuotaReached"}, provider.ErrInsufficientCapacity},
		{"region capacity", apiFailure{http.StatusConflict, "ServiceUnavailable"}, provider.ErrInsufficientCapacity},
		{"invalid request", apiFailure{http.StatusBadRequest, "InvalidRequest"}, provider.ErrInvalidRequest},
		{"other bad request", apiFailure{http.StatusBadRequest, "SomethingElse"}, provider.ErrInvalidRequest},
		{"forbidden", apiFailure{http.StatusForbidden, "AuthorizationFailed"}, provider.ErrInvalidRequest},
		{"conflict", apiFailure{http.StatusConflict, "Conflict"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			az := newAzure()
			az.failures["a2"] = tt.failure
			p := newProvider(t, az, nil)
			insts, err := p.Launch(context.Background(), launchRequest("tok-1", "a1", "a2", "a3"))
			var partial *provider.PartialError
			if !errors.As(err, &partial) {
				t.Fatalf("err = %v, want a *provider.PartialError", err)
			}
			if got, want := len(partial.Failed), 1; got != want {
				t.Fatalf("failed agents = %v, want only a2", partial.Failed)
			}
			cause := partial.Failed["a2"]
			for _, typed := range []error{provider.ErrInsufficientCapacity, provider.ErrInvalidRequest} {
				if got, want := errors.Is(cause, typed), typed == tt.want; got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", cause, typed, got, want)
				}
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false, want true through the PartialError", err, tt.want)
			}
			if containsAny(err.Error(), testToken) {
				t.Errorf("error %q holds the registration token", err)
			}
			var got []string
			for _, in := range insts {
				got = append(got, in.AgentName)
			}
			if diff := cmp.Diff([]string{"a1", "a3"}, got); diff != "" {
				t.Errorf("started agents (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLaunchWithRegistryPassword(t *testing.T) {
	t.Parallel()
	az := newAzure()
	const password = "registry-pa55"
	p := newProvider(t, az, func(o *aci.Options) {
		o.RegistryServer = "myreg.azurecr.io"
		o.RegistryUsername = "puller"
		o.RegistryPassword = func(context.Context) (string, error) { return password, nil }
		o.Image = "ignored"
	})
	req := launchRequest("tok-1", "a1")
	req.Template = "myreg.azurecr.io/ado-agent:2"
	if _, err := p.Launch(context.Background(), req); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	g, ok := az.sent(p.GroupName(testPool, "a1"))
	if !ok {
		t.Fatal("no group created")
	}
	creds := g.Properties.ImageRegistryCredentials
	if len(creds) != 1 || str(creds[0].Username) != "puller" || str(creds[0].Password) != password || creds[0].Identity != nil {
		t.Errorf("registry credentials = %+v, want puller with the password", creds)
	}
	if got, want := str(g.Properties.Containers[0].Properties.Image), req.Template; got != want {
		t.Errorf("image = %q, want the template %q", got, want)
	}
}

func TestLaunchRejectsEmptyPool(t *testing.T) {
	t.Parallel()
	p := newProvider(t, newAzure(), nil)
	req := launchRequest("tok-1", "a1")
	req.Pool = ""
	if _, err := p.Launch(context.Background(), req); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("err = %v, want ErrInvalidRequest", err)
	}
}

func TestGroupName(t *testing.T) {
	t.Parallel()
	p := newProvider(t, newAzure(), nil)
	long := "Agent_with-a-very-long-name-that-goes-on-and-on-and-on-and-on-and-on-and-on"
	for _, agent := range []string{"linux-1", "UPPER.case_name", "--weird--", "日本", long, "a"} {
		name := p.GroupName(testPool, agent)
		if !dnsLabel.MatchString(name) || regexp.MustCompile(`--`).MatchString(name) {
			t.Errorf("GroupName(%q) = %q: not a valid container group name", agent, name)
		}
		if again := p.GroupName(testPool, agent); again != name {
			t.Errorf("GroupName(%q) is not stable: %q then %q", agent, name, again)
		}
		if other := p.GroupName("other-pool", agent); other == name {
			t.Errorf("GroupName(%q) is %q in two pools", agent, name)
		}
	}
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*aci.Options)
	}{
		{"no subscription", func(o *aci.Options) { o.SubscriptionID = "" }},
		{"no image", func(o *aci.Options) { o.Image = "" }},
		{"no credential", func(o *aci.Options) { o.Credential = nil }},
		{"identity and username", func(o *aci.Options) {
			o.RegistryServer, o.UserAssignedIdentityID, o.RegistryUsername = "r.io", testIdentity, "u"
			o.RegistryPassword = func(context.Context) (string, error) { return "p", nil }
		}},
		{"username without password", func(o *aci.Options) { o.RegistryServer, o.RegistryUsername = "r.io", "u" }},
		{"identity without server", func(o *aci.Options) { o.UserAssignedIdentityID = testIdentity }},
		{"negative cpu", func(o *aci.Options) { o.CPU = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := aci.Options{SubscriptionID: testSub, ResourceGroup: testRG, Location: "westeurope", Image: "img",
				Controller: testController, Credential: validCredential()}
			tt.mod(&opts)
			if _, err := aci.New(opts); err == nil {
				t.Error("New accepted invalid options")
			}
		})
	}
}
