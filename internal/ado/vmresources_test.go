package ado_test

import (
	"errors"
	"testing"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/adosim"
)

// TestSimulatorVMResourceLifecycle registers a machine over HTTP as `config.sh --environment`
// does, finds it with the client, deletes it and its hidden agent, and checks the hidden-agent
// rule: the name cannot register again until the agent is gone too.
func TestSimulatorVMResourceLifecycle(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	c := s.client(t, nil)
	ctx := t.Context()

	env, err := c.FindEnvironment(ctx, "web", "PRODUCTION")
	if err != nil || env.ID != s.envID || env.Name != "production" {
		t.Fatalf("FindEnvironment: got %+v, %v; want production (%d)", env, err, s.envID)
	}
	if _, err := c.FindEnvironment(ctx, "web", "staging"); !errors.Is(err, ado.ErrNotFound) {
		t.Errorf("FindEnvironment of a missing environment: got %v, want ErrNotFound", err)
	}
	pool, err := c.GetEnvironmentDeploymentPool(ctx, "web", s.envID)
	if err != nil || pool.ID == 0 || pool.PoolType != "deployment" {
		t.Fatalf("GetEnvironmentDeploymentPool: got %+v, %v; want a deployment pool", pool, err)
	}

	reg := adosim.VMRegistration{OrgURL: s.url, Token: testPAT, Project: "web", Environment: "production",
		Name: "i-0123456789abcdef0", Tags: []string{"web", " web ", "blue"}}
	got, err := adosim.RegisterVMResource(ctx, reg)
	if err != nil {
		t.Fatalf("RegisterVMResource: %v", err)
	}
	if got.PoolID != pool.ID || got.EnvironmentID != s.envID || got.ResourceID == 0 || got.AgentID == 0 {
		t.Errorf("RegisterVMResource = %+v, want ids in environment %d and pool %d", got, s.envID, pool.ID)
	}

	found, err := c.FindVMResources(ctx, "web", s.envID, reg.Name)
	if err != nil || len(found) != 1 {
		t.Fatalf("FindVMResources: got %+v, %v; want one", found, err)
	}
	r := found[0]
	if r.ID != got.ResourceID || r.Agent == nil || r.Agent.ID != got.AgentID || len(r.Tags) != 2 {
		t.Errorf("FindVMResources: got %+v (agent %+v), want resource %d, agent %d, tags [web blue]", r, r.Agent, got.ResourceID, got.AgentID)
	}
	one, err := c.GetVMResource(ctx, "web", s.envID, got.ResourceID)
	if err != nil || one.Name != reg.Name {
		t.Errorf("GetVMResource: got %+v, %v", one, err)
	}
	agents, err := c.FindAgents(ctx, pool.ID, reg.Name)
	if err != nil || len(agents) != 1 || agents[0].ID != got.AgentID {
		t.Errorf("FindAgents: got %+v, %v; want agent %d", agents, err, got.AgentID)
	}

	// Registering the name again: refused without --replace, accepted with it (same resource).
	if _, err := adosim.RegisterVMResource(ctx, reg); err == nil {
		t.Errorf("second registration without Replace succeeded")
	}
	reg.Replace = true
	again, err := adosim.RegisterVMResource(ctx, reg)
	if err != nil || again.ResourceID != got.ResourceID || again.AgentID != got.AgentID {
		t.Errorf("registration with Replace = %+v, %v; want resource %d kept", again, err, got.ResourceID)
	}
	reg.Replace = false

	// Deleting the resource leaves the hidden agent, which blocks a new registration.
	if err := c.DeleteVMResource(ctx, "web", s.envID, got.ResourceID); err != nil {
		t.Fatalf("DeleteVMResource: %v", err)
	}
	if _, err := c.GetVMResource(ctx, "web", s.envID, got.ResourceID); !errors.Is(err, ado.ErrNotFound) {
		t.Errorf("GetVMResource after delete: got %v, want ErrNotFound", err)
	}
	if _, err := adosim.RegisterVMResource(ctx, reg); err == nil {
		t.Errorf("registration with the hidden agent left succeeded; ADO refuses it")
	}
	if err := c.DeleteAgent(ctx, pool.ID, got.AgentID); err != nil {
		t.Fatalf("DeleteAgent: %v", err)
	}
	if _, err := adosim.RegisterVMResource(ctx, reg); err != nil {
		t.Errorf("registration after the hidden agent was removed: %v", err)
	}
}
