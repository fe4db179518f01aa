package aci

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2"

	"github.com/adofleet/adofleet/internal/provider"
)

// List returns the pool's container groups started by this controller, found by tag
// (provider.IsOurs) among the resource group's groups, never by name. A group whose container
// has exited stays listed, as terminated with the exit status, until Terminate deletes it.
func (p *Provider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	var groups []armcontainerinstance.ContainerGroup
	pager := p.client.NewListByResourceGroupPager(p.opts.ResourceGroup, nil)
	for pager.More() {
		cctx, cancel := p.call(ctx)
		page, err := pager.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("aci provider: list container groups of resource group %q: %w", p.opts.ResourceGroup, classify(err))
		}
		for _, g := range page.Value {
			if g != nil && provider.IsOurs(p.instance(*g), pool, p.opts.Controller) {
				groups = append(groups, *g)
			}
		}
	}
	groups = p.withInstanceViews(ctx, groups)
	out := make([]provider.Instance, 0, len(groups))
	for _, g := range groups {
		out = append(out, p.instance(g))
	}
	provider.SortInstances(out)
	return out, nil
}

// ended are the provisioning states after which a group has an instance view worth reading: its
// containers' states and the events that say why a deployment failed.
var ended = map[string]bool{"succeeded": true, "failed": true, "canceled": true}

// withInstanceViews reads each deployed or failed group that came without its instance view (the
// list operation may leave it out), at most 10 at a time. A group that vanished meanwhile is dropped;
// one that cannot be read keeps what the list said.
func (p *Provider) withInstanceViews(ctx context.Context, groups []armcontainerinstance.ContainerGroup) []armcontainerinstance.ContainerGroup {
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, maxConcurrentCalls)
		gone = make([]bool, len(groups))
	)
	for i := range groups {
		props := groups[i].Properties
		if props == nil || props.InstanceView != nil || !ended[strings.ToLower(str(props.ProvisioningState))] {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			name := str(groups[i].Name)
			cctx, cancel := p.call(ctx)
			defer cancel()
			res, err := p.client.Get(cctx, p.opts.ResourceGroup, name, nil)
			switch {
			case err == nil:
				groups[i] = res.ContainerGroup
			case isNotFound(err):
				gone[i] = true
			default:
				p.log.Warn("cannot read container group's instance view", "group", name, "err", classify(err))
			}
		})
	}
	wg.Wait()
	kept := groups[:0]
	for i, g := range groups {
		if !gone[i] {
			kept = append(kept, g)
		}
	}
	return kept
}

// instance maps a container group to the provider-neutral view.
func (p *Provider) instance(g armcontainerinstance.ContainerGroup) provider.Instance {
	tags := canonicalTags(g.Tags)
	id := str(g.ID)
	if id == "" {
		id = p.groupID(str(g.Name))
	}
	inst := provider.Instance{
		ID:        id,
		Pool:      tags[provider.TagPool],
		AgentName: tags[provider.TagAgent],
		State:     state(g.Properties),
		Tags:      tags,
	}
	if t, err := time.Parse(time.RFC3339, tags[TagLaunchedAt]); err == nil {
		inst.LaunchedAt = t
	} else {
		inst.LaunchedAt = p.now()
	}
	if inst.State == provider.StateTerminated || inst.State == provider.StateStopping {
		inst.Reason = reason(g.Properties)
	}
	return inst
}

// knownTags are matched ignoring case: Azure tag names are case-insensitive and a resource
// provider may return them in another case than they were written.
var knownTags = []string{provider.TagPool, provider.TagController, provider.TagAgent, provider.TagToken, TagLaunchedAt}

func canonicalTags(in map[string]*string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		for _, known := range knownTags {
			if strings.EqualFold(k, known) {
				k = known
				break
			}
		}
		out[k] = str(v)
	}
	return out
}

// state maps the group's provisioningState (Pending, Creating, Succeeded, Failed, Canceled,
// Deleting, ...), its instance view's state (Pending, Running, Succeeded, Failed, Stopped) and
// the agent container's current state (Waiting, Running, Terminated). With restart policy Never
// a container that ended stays ended, so Succeeded and Failed both mean terminated.
func state(props *armcontainerinstance.ContainerGroupPropertiesProperties) provider.State {
	if props == nil {
		return provider.StatePending
	}
	provisioning := strings.ToLower(str(props.ProvisioningState))
	switch provisioning {
	case "deleting":
		return provider.StateStopping
	case "failed", "canceled":
		return provider.StateTerminated
	}
	if props.InstanceView != nil {
		switch strings.ToLower(str(props.InstanceView.State)) {
		case "running":
			return provider.StateRunning
		case "succeeded", "failed", "stopped", "terminated":
			return provider.StateTerminated
		}
	}
	if cs := containerState(props); cs != nil {
		switch strings.ToLower(str(cs.State)) {
		case "running":
			return provider.StateRunning
		case "terminated":
			return provider.StateTerminated
		}
	}
	if provisioning == "succeeded" {
		return provider.StateRunning // deployed, no instance view yet
	}
	return provider.StatePending
}

// reason joins what ACI says about a group that ended: a failed provisioning, the group's state,
// the agent container's state and exit code, and the warning events (image pull failures and
// the like) of the group and its container.
func reason(props *armcontainerinstance.ContainerGroupPropertiesProperties) string {
	if props == nil {
		return ""
	}
	var parts []string
	if ps := str(props.ProvisioningState); strings.EqualFold(ps, "Failed") || strings.EqualFold(ps, "Canceled") || strings.EqualFold(ps, "Deleting") {
		parts = append(parts, "provisioning "+ps)
	}
	var events []*armcontainerinstance.Event
	if iv := props.InstanceView; iv != nil {
		if s := str(iv.State); s != "" {
			parts = append(parts, "group "+s)
		}
		events = append(events, iv.Events...)
	}
	if cs := containerState(props); cs != nil {
		s := ContainerName + ": " + str(cs.State)
		if d := str(cs.DetailStatus); d != "" {
			s += " (" + d + ")"
		}
		if cs.ExitCode != nil {
			s += fmt.Sprintf(", exit code %d", *cs.ExitCode)
		}
		parts = append(parts, s)
	}
	if c := agentContainer(props); c != nil && c.Properties.InstanceView != nil {
		events = append(events, c.Properties.InstanceView.Events...)
	}
	seen := map[string]bool{}
	for _, e := range events {
		if e == nil || !strings.EqualFold(str(e.Type), "Warning") {
			continue
		}
		s := str(e.Name) + ": " + str(e.Message)
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

func agentContainer(props *armcontainerinstance.ContainerGroupPropertiesProperties) *armcontainerinstance.Container {
	for _, c := range props.Containers {
		if c != nil && c.Properties != nil && str(c.Name) == ContainerName {
			return c
		}
	}
	return nil
}

func containerState(props *armcontainerinstance.ContainerGroupPropertiesProperties) *armcontainerinstance.ContainerState {
	if c := agentContainer(props); c != nil && c.Properties.InstanceView != nil {
		return c.Properties.InstanceView.CurrentState
	}
	return nil
}
