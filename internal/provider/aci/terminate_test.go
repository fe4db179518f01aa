package aci_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
)

func TestTerminateDeletesGroups(t *testing.T) {
	t.Parallel()
	az := newAzure()
	p := newProvider(t, az, nil)
	ctx := context.Background()
	insts, err := p.Launch(ctx, launchRequest("tok-1", "a1", "a2"))
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	missing := groupID(testRG, "never-existed")
	if err := p.Terminate(ctx, []string{insts[0].ID, missing}); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	if diff := cmp.Diff([]string{p.GroupName(testPool, insts[1].AgentName)}, az.names()); diff != "" {
		t.Errorf("groups left (-want +got):\n%s", diff)
	}
	// Already gone: still not an error.
	if err := p.Terminate(ctx, []string{insts[0].ID}); err != nil {
		t.Errorf("Terminate of a deleted group: %v, want nil", err)
	}
}

func TestTerminateRejectsForeignIDs(t *testing.T) {
	t.Parallel()
	p := newProvider(t, newAzure(), nil)
	for _, id := range []string{"not-an-id", "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"} {
		if err := p.Terminate(context.Background(), []string{id}); !errors.Is(err, provider.ErrInvalidRequest) {
			t.Errorf("Terminate(%q) = %v, want ErrInvalidRequest", id, err)
		}
	}
}
