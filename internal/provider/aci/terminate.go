package aci

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/adofleet/adofleet/internal/provider"
)

// Terminate deletes the given container groups (resource IDs as List and Launch return them),
// at most 10 BeginDelete calls at once. It returns once ARM has accepted each deletion; the group
// is listed as stopping until it is gone. A group that no longer exists is not an error.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	return provider.TerminateEach(ctx, ids, maxConcurrentCalls, func(ctx context.Context, id string) error {
		rg, name, err := parseGroupID(id)
		if err != nil {
			return fmt.Errorf("aci provider: terminate %q: %w", id, err)
		}
		cctx, cancel := p.call(ctx)
		defer cancel()
		_, err = p.client.BeginDelete(cctx, rg, name, nil)
		if err == nil || isGone(err) {
			p.log.Info("agent container group deleted on request", "group", name, "gone", err != nil)
			return nil
		}
		return fmt.Errorf("aci provider: delete container group %q: %w", name, classify(err))
	})
}

// parseGroupID returns the resource group and name of a container group's resource ID.
func parseGroupID(id string) (rg, name string, err error) {
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", provider.ErrInvalidRequest, err)
	}
	if !strings.EqualFold(rid.ResourceType.String(), "Microsoft.ContainerInstance/containerGroups") || rid.ResourceGroupName == "" {
		return "", "", fmt.Errorf("%w: not a container group resource ID", provider.ErrInvalidRequest)
	}
	return rid.ResourceGroupName, rid.Name, nil
}
