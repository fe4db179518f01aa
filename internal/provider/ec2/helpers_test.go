package ec2_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ec2"
	"github.com/adofleet/adofleet/internal/provider/ec2/ec2fake"
)

const controllerID = "ctl-1"

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newProvider(t *testing.T, mod func(*ec2.Options)) (*ec2.Provider, *ec2fake.Server) {
	t.Helper()
	fake := ec2fake.New(t, func() time.Time { return epoch })
	opts := ec2.Options{
		EC2:            fake.Client(),
		LaunchTemplate: ec2.LaunchTemplate{ID: "lt-0abc"},
		Controller:     controllerID,
		Clock:          func() time.Time { return epoch },
	}
	if mod != nil {
		mod(&opts)
	}
	p, err := ec2.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, fake
}

func request(token string, agents ...string) provider.LaunchRequest {
	specs := make([]provider.AgentSpec, len(agents))
	for i, a := range agents {
		specs[i] = provider.AgentSpec{Name: a}
	}
	return provider.LaunchRequest{
		Token:  token,
		Pool:   "linux",
		Agents: specs,
		Tags:   provider.TagsFor("linux", controllerID, "", token),
		Env: map[string]string{
			"AZP_URL": "https://dev.azure.com/contoso", "AZP_TOKEN": "s3cret-pat", "AZP_POOL": "linux",
			"AZP_ONCE": "true", "ADOFLEET_CAPABILITIES": `{"docker":"1","Agent.Weird":"x"}`,
		},
	}
}

func ids(insts []provider.Instance) []string {
	out := make([]string, len(insts))
	for i, in := range insts {
		out[i] = in.ID
	}
	return out
}

func decode(t *testing.T, b64 string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("user data is not base64: %v", err)
	}
	return string(b)
}

var ctx = context.Background()
