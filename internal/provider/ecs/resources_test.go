package ecs_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ecs"
	"github.com/adofleet/adofleet/internal/provider/ecs/ecsfake"
)

// TestLaunchPoolResourcesWin: a request's Resources (the pool's) replace the provider's cpu and
// memory in RunTask's task-level overrides, field by field; empty fields keep the provider's, and
// with neither the task definition's size stands (no override sent).
func TestLaunchPoolResourcesWin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		optCPU, optMem   string
		res              provider.Resources
		wantCPU, wantMem any // the overrides' cpu and memory as sent; nil when absent
	}{
		{"provider's defaults", "512", "1024", provider.Resources{}, "512", "1024"},
		{"pool's size wins", "512", "1024", provider.Resources{CPU: "2048", Memory: "4 GB"}, "2048", "4 GB"},
		{"pool sets cpu only", "512", "1024", provider.Resources{CPU: "1 vCPU"}, "1 vCPU", "1024"},
		{"pool sets memory only", "", "", provider.Resources{Memory: "3072"}, nil, "3072"},
		{"neither: the task definition's", "", "", provider.Resources{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, ecsfake.Options{}, func(o *ecs.Options) { o.CPU, o.Memory = tt.optCPU, tt.optMem })
			req := request("tok", agents("linux-000"))
			req.Resources = tt.res
			if _, err := e.prov.Launch(t.Context(), req); err != nil {
				t.Fatalf("Launch: %v", err)
			}
			bodies := runTaskBodies(t, e.fake)
			if len(bodies) != 1 {
				t.Fatalf("RunTask calls: got %d, want 1", len(bodies))
			}
			ov, _ := bodies[0]["overrides"].(map[string]any)
			got := map[string]any{"cpu": ov["cpu"], "memory": ov["memory"]}
			want := map[string]any{"cpu": tt.wantCPU, "memory": tt.wantMem}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("task overrides (-want +got):\n%s", diff)
			}
			// The fake, like ECS, sizes the task from the overrides.
			task := e.fake.Tasks()[0]
			if tt.wantCPU != nil && task.CPU != tt.wantCPU {
				t.Errorf("task cpu: got %q, want %q", task.CPU, tt.wantCPU)
			}
			if tt.wantMem != nil && task.Memory != tt.wantMem {
				t.Errorf("task memory: got %q, want %q", task.Memory, tt.wantMem)
			}
		})
	}
}

// TestLaunchPoolEnvReachesContainer: the pool's environment (part of the request's Env) reaches
// the agent container's overrides and wins over the provider's own Env; the token never does.
func TestLaunchPoolEnvReachesContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecsfake.Options{}, func(o *ecs.Options) {
		o.Env = map[string]string{"FROM_OPTIONS": "1", "SHARED": "provider"}
	})
	req := request("tok", agents("linux-000"))
	req.Env["POOL_ONLY"] = "pool-value"
	req.Env["SHARED"] = "pool"
	if _, err := e.prov.Launch(t.Context(), req); err != nil {
		t.Fatalf("Launch: %v", err)
	}
	got := e.fake.Tasks()[0].Env[testContainer]
	want := map[string]string{
		"AZP_URL": "https://dev.azure.com/org", "AZP_POOL": "linux", "AZP_ONCE": "true",
		ecs.AgentNameEnv: "linux-000", "FROM_OPTIONS": "1", "POOL_ONLY": "pool-value", "SHARED": "pool",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("container environment (-want +got):\n%s", diff)
	}
}
