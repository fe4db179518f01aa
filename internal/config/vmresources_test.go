package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

const vmResourcesBase = `organization:
  url: https://dev.azure.com/contoso
  pat: env:ADO_PAT
providers:
  local:
    command: [./agent.sh]
pools:
  - name: linux
    provider: local
    max: 2
`

func TestVMResourcesDefaultsAndLookup(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("vm.yaml", []byte(vmResourcesBase+`vmResources:
  queueUrl: http://127.0.0.1:4100/100010001000/lifecycle
  environments:
    - project: shop
      environment: production
      autoScalingGroups: [web-prod, worker-prod]
      tags: [web, eu-west-1]
      tokenParameter: /adofleet/environment-pat
    - project: shop
      environment: staging
      autoScalingGroups: [web-staging]
      tokenParameter: arn:aws:ssm:eu-west-1:123456789012:parameter/adofleet/pat
`))
	if err != nil {
		t.Fatal(err)
	}
	v := cfg.VMResources
	if v == nil {
		t.Fatal("VMResources is nil")
	}
	if v.MaxReceives != 5 || v.ReconcileInterval.D() != 10*time.Minute || v.RecordTTL.D() != 168*time.Hour {
		t.Errorf("defaults: maxReceives %d, reconcileInterval %s, recordTTL %s; want 5, 10m, 168h", v.MaxReceives, v.ReconcileInterval, v.RecordTTL)
	}
	if v.VisibilityTimeout != 0 || v.DryRun {
		t.Errorf("visibilityTimeout %s, dryRun %v; want 0 (the queue's) and false", v.VisibilityTimeout, v.DryRun)
	}
	want := []config.VMEnvironment{{
		Project: "shop", Environment: "production", AutoScalingGroups: []string{"web-prod", "worker-prod"},
		Tags: []string{"web", "eu-west-1"}, TokenParameter: "/adofleet/environment-pat",
	}, {
		Project: "shop", Environment: "staging", AutoScalingGroups: []string{"web-staging"},
		TokenParameter: "arn:aws:ssm:eu-west-1:123456789012:parameter/adofleet/pat",
	}}
	if diff := cmp.Diff(want, v.Environments); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}
}

func TestVMResourcesAbsentStaysNil(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse("vm.yaml", []byte(vmResourcesBase))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.VMResources != nil {
		t.Errorf("VMResources = %+v, want nil when the section is absent", cfg.VMResources)
	}
}

// TestVMResourcesAloneNeedsNoPool: a deployment that only keeps Environments in step with Auto
// Scaling groups has no pool; without vmResources a pool is still required.
func TestVMResourcesAloneNeedsNoPool(t *testing.T) {
	t.Parallel()
	const org = "organization:\n  url: https://dev.azure.com/contoso\n  pat: env:ADO_PAT\n"
	cfg, err := config.Parse("vm.yaml", []byte(org+`vmResources:
  environments:
    - project: shop
      environment: production
      autoScalingGroups: [web-prod]
`))
	if err != nil {
		t.Fatalf("vmResources without pools: %v", err)
	}
	if len(cfg.Pools) != 0 || cfg.VMResources == nil {
		t.Errorf("pools %v, vmResources %v; want none and the section", cfg.Pools, cfg.VMResources)
	}
	if _, err := config.Parse("empty.yaml", []byte(org)); err == nil || !strings.Contains(err.Error(), "at least one pool is required") {
		t.Errorf("neither pools nor vmResources: err = %v, want the pool requirement", err)
	}
}

// TestVMResourcesSchema: the schema accepts a file with vmResources and no pools, and applies the
// section's constraints.
func TestVMResourcesSchema(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	base := "organization: {url: https://dev.azure.com/c, pat: env:ADO_PAT}\n"
	ok := base + "vmResources: {environments: [{project: p, environment: e, autoScalingGroups: [g], tags: [t], tokenParameter: /adofleet/pat}]}"
	if err := s.Validate(yamlInstance(t, []byte(ok))); err != nil {
		t.Errorf("vmResources without pools rejected: %v", err)
	}
	for name, data := range map[string]string{
		"no environments": base + "vmResources: {environments: []}",
		"no groups":       base + "vmResources: {environments: [{project: p, environment: e, autoScalingGroups: []}]}",
		"unknown field":   base + "vmResources: {queue: q, environments: [{project: p, environment: e, autoScalingGroups: [g]}]}",
		"maxReceives 0":   base + "vmResources: {maxReceives: 0, environments: [{project: p, environment: e, autoScalingGroups: [g]}]}",
		"neither":         base + "pools: []",
		"bad token param": base + "vmResources: {environments: [{project: p, environment: e, autoScalingGroups: [g], tokenParameter: 'a b'}]}",
	} {
		if err := s.Validate(yamlInstance(t, []byte(data))); err == nil {
			t.Errorf("%s: schema accepted\n%s", name, data)
		}
	}
}
