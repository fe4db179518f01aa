package config_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

func TestECSProviderValidate(t *testing.T) {
	t.Parallel()
	valid := func() config.ECSProvider {
		return config.ECSProvider{
			Cluster: "agents", TaskDefinition: "ado-agent", Subnets: []string{"subnet-1"},
			CapacityProviderStrategy: []config.ECSCapacityProviderItem{{Provider: "FARGATE_SPOT", Weight: 4}, {Provider: "FARGATE", Weight: 1, Base: 1}},
			Secrets:                  []config.ECSSecret{{Name: "AZP_TOKEN", ValueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/adofleet/token"}},
		}
	}
	tests := []validateCase[config.ECSProvider]{
		{"valid", func(*config.ECSProvider) {}, nil},
		{"missing required", func(p *config.ECSProvider) { p.Cluster, p.TaskDefinition, p.Subnets = "", "", nil },
			[]string{"providers.ecs.cluster", "providers.ecs.taskDefinition", "providers.ecs.subnets"}},
		{"launch type and strategy", func(p *config.ECSProvider) { p.LaunchType = "FARGATE" }, []string{"providers.ecs.launchType"}},
		{"no token secret", func(p *config.ECSProvider) { p.Secrets = nil }, []string{"providers.ecs.secrets"}},
		{"token as plain env", func(p *config.ECSProvider) { p.Env = map[string]string{"AZP_TOKEN": "x"} }, []string{"providers.ecs.env.AZP_TOKEN"}},
		{"sizes in both notations", func(p *config.ECSProvider) { p.CPU, p.Memory = "0.25 vCPU", "512" }, nil},
		{"bad sizes", func(p *config.ECSProvider) { p.CPU, p.Memory = "two", "1 TB" },
			[]string{"providers.ecs.cpu", "providers.ecs.memory"}},
		{"bad secret source", func(p *config.ECSProvider) {
			p.Secrets[0].ValueFrom = "arn:aws:s3:::bucket/token"
		}, []string{"providers.ecs.secrets[0].valueFrom"}},
	}
	testValidate(t, valid, (*config.ECSProvider).Validate, "providers.ecs", tests, nil)
}

// TestPoolResourcesParse: a pool's resources are read in ECS's notations, absent ones stay empty,
// and they survive defaulting.
func TestPoolResourcesParse(t *testing.T) {
	t.Parallel()
	const yaml = `organization:
  url: https://dev.azure.com/contoso
  pat: env:ADO_PAT
providers:
  ecs:
    cluster: agents
    taskDefinition: ado-agent
    subnets: [subnet-1]
    cpu: "256"
    memory: "512"
    secrets:
      - {name: AZP_TOKEN, valueFrom: /adofleet/token}
pools:
  - name: small
    provider: ecs
    max: 2
  - name: large
    provider: ecs
    max: 2
    resources:
      cpu: 2 vCPU
      memory: "8192"
  - name: wide
    provider: ecs
    max: 2
    resources: {cpu: "4096"}
`
	cfg, err := config.Parse("adofleet.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := map[string]config.PoolResources{}
	for _, p := range cfg.Pools {
		got[p.Name] = p.Resources
	}
	want := map[string]config.PoolResources{
		"small": {},
		"large": {CPU: "2 vCPU", Memory: "8192"},
		"wide":  {CPU: "4096"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pool resources (-want +got):\n%s", diff)
	}
}
