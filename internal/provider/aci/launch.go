package aci

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerinstance/armcontainerinstance/v2"

	"github.com/adofleet/adofleet/internal/provider"
)

// Launch creates one container group per agent of req, at most 10 calls in flight, and returns
// once ARM has accepted each one. It is idempotent per req.Token: a group that already exists
// with that token is returned as it is. Agents that did not start come back in a
// *provider.PartialError.
func (p *Provider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	if req.Pool == "" {
		return nil, fmt.Errorf("aci provider: launch: %w: no pool", provider.ErrInvalidRequest)
	}
	if len(req.Agents) == 0 {
		return nil, nil
	}
	if _, _, err := p.size(req.Resources); err != nil {
		return nil, fmt.Errorf("aci provider: launch: pool %q: %w", req.Pool, err)
	}
	var password string
	if p.opts.RegistryPassword != nil {
		pw, err := p.opts.RegistryPassword(ctx)
		if err != nil {
			return nil, fmt.Errorf("aci provider: launch %d agent(s) of pool %q: registry password: %w", len(req.Agents), req.Pool, err)
		}
		password = pw
	}

	return provider.LaunchEach(ctx, req.Agents, maxConcurrentCalls, func(ctx context.Context, agent string) (provider.Instance, error) {
		return p.launchOne(ctx, req, agent, password)
	}, func(agent string, err error) {
		p.log.Warn("agent container group did not start", "pool", req.Pool, "agent", agent, "err", err)
	})
}

// launchOne returns the agent's group if this launch already created it, else creates it.
func (p *Provider) launchOne(ctx context.Context, req provider.LaunchRequest, agent, password string) (provider.Instance, error) {
	name := p.GroupName(req.Pool, agent)
	tags := p.tags(req, agent)
	for k, v := range tags {
		if len(k) > maxTagNameLen || len(v) > maxTagValueLen {
			return provider.Instance{}, fmt.Errorf("%w: tag %q of agent %q is longer than Azure allows (%d/%d)",
				provider.ErrInvalidRequest, k, agent, maxTagNameLen, maxTagValueLen)
		}
	}

	cctx, cancel := p.call(ctx)
	got, err := p.client.Get(cctx, p.opts.ResourceGroup, name, nil)
	cancel()
	switch {
	case err == nil:
		inst := p.instance(got.ContainerGroup)
		if req.Token != "" && inst.Tags[provider.TagToken] == req.Token &&
			provider.IsOurs(inst, req.Pool, tags[provider.TagController]) {
			p.log.Info("agent container group already launched with this token", "pool", req.Pool, "agent", agent, "group", name)
			return inst, nil
		}
		// Never overwrite a group this launch did not create: CreateOrUpdate would update it.
		return provider.Instance{}, fmt.Errorf("container group %q for agent %q already exists from another launch", name, agent)
	case !isNotFound(err):
		return provider.Instance{}, fmt.Errorf("get container group %q for agent %q: %w", name, agent, classify(err))
	}

	group := p.containerGroup(req, agent, tags, password)
	cctx, cancel = p.call(ctx)
	defer cancel()
	poller, err := p.client.BeginCreateOrUpdate(cctx, p.opts.ResourceGroup, name, group, nil)
	if err != nil {
		return provider.Instance{}, fmt.Errorf("create container group %q for agent %q: %w", name, agent, classify(err))
	}
	if poller.Done() { // ARM answered synchronously: its answer has the group's state
		res, err := poller.Result(cctx)
		if err != nil {
			return provider.Instance{}, fmt.Errorf("create container group %q for agent %q: %w", name, agent, classify(err))
		}
		return p.instance(res.ContainerGroup), nil
	}
	// Accepted and deploying: the rest of the operation is left to Azure (and seen by List).
	group.ID = to.Ptr(p.groupID(name))
	group.Name = to.Ptr(name)
	inst := p.instance(group)
	inst.State = provider.StatePending
	return inst, nil
}

// containerGroup is the group of one agent.
func (p *Provider) containerGroup(req provider.LaunchRequest, agent string, tags map[string]string, password string) armcontainerinstance.ContainerGroup {
	image := p.opts.Image
	if req.Template != "" {
		image = req.Template
	}
	cpu, memoryGB, _ := p.size(req.Resources) // checked by Launch
	props := &armcontainerinstance.ContainerGroupPropertiesProperties{
		OSType:        to.Ptr(armcontainerinstance.OperatingSystemTypesLinux),
		RestartPolicy: to.Ptr(armcontainerinstance.ContainerGroupRestartPolicyNever),
		SKU:           to.Ptr(armcontainerinstance.ContainerGroupSKUStandard),
		Containers: []*armcontainerinstance.Container{{
			Name: to.Ptr(ContainerName),
			Properties: &armcontainerinstance.ContainerProperties{
				Image: to.Ptr(image),
				Resources: &armcontainerinstance.ResourceRequirements{Requests: &armcontainerinstance.ResourceRequests{
					CPU: to.Ptr(cpu), MemoryInGB: to.Ptr(memoryGB),
				}},
				EnvironmentVariables: p.envVars(req.Env, agent),
			},
		}},
		// No IPAddress: an agent only dials out, so the group gets no public (or private) endpoint.
	}
	for _, id := range p.opts.SubnetIDs {
		props.SubnetIDs = append(props.SubnetIDs, &armcontainerinstance.ContainerGroupSubnetID{ID: to.Ptr(id)})
	}
	group := armcontainerinstance.ContainerGroup{
		Location:   to.Ptr(p.opts.Location),
		Tags:       map[string]*string{},
		Properties: props,
	}
	for k, v := range tags {
		group.Tags[k] = to.Ptr(v)
	}
	switch {
	case p.opts.UserAssignedIdentityID != "":
		group.Identity = &armcontainerinstance.ContainerGroupIdentity{
			Type:                   to.Ptr(armcontainerinstance.ResourceIdentityTypeUserAssigned),
			UserAssignedIdentities: map[string]*armcontainerinstance.UserAssignedIdentities{p.opts.UserAssignedIdentityID: {}},
		}
		props.ImageRegistryCredentials = []*armcontainerinstance.ImageRegistryCredential{{
			Server: to.Ptr(p.opts.RegistryServer), Identity: to.Ptr(p.opts.UserAssignedIdentityID),
		}}
	case p.opts.RegistryUsername != "":
		props.ImageRegistryCredentials = []*armcontainerinstance.ImageRegistryCredential{{
			Server: to.Ptr(p.opts.RegistryServer), Username: to.Ptr(p.opts.RegistryUsername), Password: to.Ptr(password),
		}}
	}
	return group
}

// envVars is Options.Env, then the request's, then AZP_AGENT_NAME; secret names go as secure
// values, which ACI never returns.
func (p *Provider) envVars(reqEnv map[string]string, agent string) []*armcontainerinstance.EnvironmentVariable {
	env := maps.Clone(p.opts.Env)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, reqEnv)
	env[AgentNameEnv] = agent
	out := make([]*armcontainerinstance.EnvironmentVariable, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := &armcontainerinstance.EnvironmentVariable{Name: to.Ptr(k)}
		if p.secure[k] {
			v.SecureValue = to.Ptr(env[k])
		} else {
			v.Value = to.Ptr(env[k])
		}
		out = append(out, v)
	}
	return out
}

// tags are the request's tags plus this agent's, with pool, controller, token and launch time.
func (p *Provider) tags(req provider.LaunchRequest, agent string) map[string]string {
	tags := maps.Clone(req.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	maps.Copy(tags, provider.TagsFor(req.Pool, p.opts.Controller, agent, req.Token))
	if c := req.Tags[provider.TagController]; c != "" {
		tags[provider.TagController] = c
	}
	tags[TagLaunchedAt] = p.now().UTC().Format(time.RFC3339)
	return tags
}
