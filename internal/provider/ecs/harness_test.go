package ecs_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ecs"
	"github.com/adofleet/adofleet/internal/provider/ecs/ecsfake"
)

const (
	testCluster    = "agents"
	testFamily     = "ado-agent"
	testContainer  = "agent"
	testController = "ctl-1"
	tokenParam     = "arn:aws:ssm:us-east-1:123456789012:parameter/adofleet/agent-token"
)

// env is a fake ECS over HTTP and a provider using the real SDK client against it.
type env struct {
	fake *ecsfake.Fake
	prov *ecs.Provider
	reg  *prometheus.Registry
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testOptions() ecs.Options {
	return ecs.Options{
		Cluster:        testCluster,
		TaskDefinition: testFamily,
		ContainerName:  testContainer,
		CapacityProviderStrategy: []ecs.CapacityProvider{
			{Provider: "FARGATE_SPOT", Weight: 4},
			{Provider: "FARGATE", Weight: 1, Base: 1},
		},
		Subnets:        []string{"subnet-a", "subnet-b"},
		SecurityGroups: []string{"sg-1"},
		CPU:            "512",
		Memory:         "1024",
		Env:            map[string]string{"FROM_OPTIONS": "1"},
		Secrets:        []ecs.Secret{{Name: ecs.TokenEnv, ValueFrom: tokenParam}},
		Controller:     testController,
	}
}

// newEnv starts the fake with the agent's task definition and builds a provider; mod adjusts the
// options first.
func newEnv(t *testing.T, fo ecsfake.Options, mod func(*ecs.Options)) *env {
	t.Helper()
	if fo.Clusters == nil {
		fo.Clusters = []string{testCluster}
	}
	f := ecsfake.New(fo)
	t.Cleanup(f.Close)
	f.RegisterTaskDefinition(testFamily, ecsfake.Container{
		Name: testContainer, Secrets: map[string]string{ecs.TokenEnv: tokenParam},
	})
	e := &env{fake: f, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	opts := testOptions()
	opts.Registerer = e.reg
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, nil))
	if mod != nil {
		mod(&opts)
	}
	e.prov = newProvider(t, f, opts)
	return e
}

func newProvider(t *testing.T, f *ecsfake.Fake, opts ecs.Options) *ecs.Provider {
	t.Helper()
	p, err := ecs.New(newClient(f), opts)
	if err != nil {
		t.Fatalf("ecs.New: %v", err)
	}
	return p
}

// newClient is the real SDK client pointed at the fake, with static credentials and a retryer
// whose backoff is capped low so retried throttling stays quick.
func newClient(f *ecsfake.Fake) ecs.API {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}
	return ecs.NewClient(cfg, ecs.ClientOptions{BaseEndpoint: f.URL, MaxAttempts: 5, MaxBackoff: 5 * time.Millisecond})
}

func agents(names ...string) []provider.AgentSpec {
	out := make([]provider.AgentSpec, len(names))
	for i, n := range names {
		out[i] = provider.AgentSpec{Name: n}
	}
	return out
}

func request(token string, specs []provider.AgentSpec) provider.LaunchRequest {
	return provider.LaunchRequest{
		Token:  token,
		Pool:   "linux",
		Agents: specs,
		Tags:   provider.TagsFor("linux", testController, "", token),
		Env: map[string]string{
			"AZP_URL": "https://dev.azure.com/org", "AZP_POOL": "linux", "AZP_TOKEN": "pat-secret-value",
			"AZP_ONCE": "true",
		},
	}
}

// runTaskBodies decodes the recorded RunTask requests that were not throttled.
func runTaskBodies(t *testing.T, f *ecsfake.Fake) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, c := range f.Calls("RunTask") {
		if c.Throttled {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(c.Body, &m); err != nil {
			t.Fatalf("decode RunTask body: %v", err)
		}
		out = append(out, m)
	}
	return out
}
