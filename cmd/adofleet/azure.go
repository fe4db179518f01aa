package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/aci"
	"github.com/adofleet/adofleet/internal/secret"
)

// newAzureCredential is azidentity's default chain (managed identity, workload identity,
// environment, Azure CLI); a variable so that tests can stand in for Azure.
var newAzureCredential = func() (azcore.TokenCredential, error) {
	return azidentity.NewDefaultAzureCredential(nil)
}

// addAzureProviders registers the aci provider when cfg configures it. Building it makes no Azure
// call: credentials are first used at the first launch or list. secrets resolves registryPassword.
func addAzureProviders(providers *provider.Registry, cfg *config.Config, secrets *secret.Registry, reg prometheus.Registerer, log *slog.Logger) error {
	a := cfg.Providers.ACI
	if a == nil {
		return nil
	}
	p, err := newACIProvider(cfg, a, secrets, log)
	if err != nil {
		return fmt.Errorf("providers.aci: %w", err)
	}
	return providers.Register("aci", provider.Instrument("aci", p, reg))
}

func newACIProvider(cfg *config.Config, a *config.ACIProvider, secrets *secret.Registry, log *slog.Logger) (*aci.Provider, error) {
	cred, err := newAzureCredential()
	if err != nil {
		return nil, fmt.Errorf("azure credential: %w", err)
	}
	opts := aci.Options{
		SubscriptionID: a.SubscriptionID, ResourceGroup: a.ResourceGroup, Location: a.Location,
		Image: a.Image, RegistryServer: a.RegistryServer, UserAssignedIdentityID: a.UserAssignedIdentityID,
		RegistryUsername: a.RegistryUsername, CPU: a.CPU, MemoryGB: a.MemoryGB,
		SubnetIDs: a.SubnetIDs, Env: a.Env, SecureEnv: a.SecureEnv,
		Controller: cfg.Controller.ID, Credential: cred, Logger: log, CallTimeout: a.CallTimeout.D(),
	}
	if ref := a.RegistryPassword; ref != "" {
		// Resolved at every launch (through a refresher's cache), so a rotated password is picked up.
		src := secret.NewRefresher(secrets, ref, secret.RefreshOptions{TTL: cfg.Organization.SecretTTL.D(), Log: log})
		opts.RegistryPassword = func(ctx context.Context) (string, error) {
			v, err := src.Get(ctx)
			if err != nil {
				return "", fmt.Errorf("providers.aci.registryPassword: %w", err)
			}
			return v.Reveal(), nil
		}
	}
	return aci.New(opts)
}
