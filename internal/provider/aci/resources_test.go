package aci_test

import (
	"context"
	"errors"
	"testing"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/aci"
)

// TestLaunchSizesFromPoolResources: a pool's resources win over Options.CPU and MemoryGB, field by
// field, and a size ACI cannot take is refused before any call.
func TestLaunchSizesFromPoolResources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		res          provider.Resources
		wantCPU      float64
		wantMemoryGB float64
	}{
		{name: "provider's own", wantCPU: 2, wantMemoryGB: 4},
		{name: "both", res: provider.Resources{CPU: "1.5", Memory: "3.5"}, wantCPU: 1.5, wantMemoryGB: 3.5},
		{name: "memory only", res: provider.Resources{Memory: "8"}, wantCPU: 2, wantMemoryGB: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			az := newAzure()
			p := newProvider(t, az, func(o *aci.Options) { o.CPU, o.MemoryGB = 2, 4 })
			req := launchRequest("tok-1", "a1")
			req.Resources = tt.res
			if _, err := p.Launch(context.Background(), req); err != nil {
				t.Fatalf("Launch: %v", err)
			}
			g, ok := az.sent(p.GroupName(testPool, "a1"))
			if !ok {
				t.Fatal("no group created")
			}
			r := g.Properties.Containers[0].Properties.Resources.Requests
			if *r.CPU != tt.wantCPU || *r.MemoryInGB != tt.wantMemoryGB {
				t.Errorf("got cpu %v, memory %v GB; want %v, %v", *r.CPU, *r.MemoryInGB, tt.wantCPU, tt.wantMemoryGB)
			}
		})
	}
}

func TestLaunchRefusesABadSize(t *testing.T) {
	t.Parallel()
	for _, res := range []provider.Resources{{CPU: "1 vCPU"}, {Memory: "-2"}, {CPU: "0"}} {
		az := newAzure()
		p := newProvider(t, az, nil)
		req := launchRequest("tok-1", "a1")
		req.Resources = res
		if _, err := p.Launch(context.Background(), req); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("resources %+v: err = %v, want ErrInvalidRequest", res, err)
		}
		if got := az.createCalls(); got != 0 {
			t.Errorf("resources %+v: %d create calls, want none", res, got)
		}
	}
}
