package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/cloudwatch"
	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/ec2"
	"github.com/adofleet/adofleet/internal/provider/ecs"
	"github.com/adofleet/adofleet/internal/secret"
	"github.com/adofleet/adofleet/internal/secret/awssecret"
)

// registerSecretSchemes adds ssm: and secretsmanager: to the default secret registry, which
// config validation checks references against. Checking makes no AWS call, so the clients are
// built from a zero aws.Config; secrets are resolved with a registry of their own (newSecrets).
var registerSecretSchemes = sync.OnceValue(func() error {
	return awssecret.Register(secret.Default(), aws.Config{})
})

// loadConfig registers the secret schemes the binary knows, then loads and validates path.
func loadConfig(path string) (*config.Config, error) {
	if err := registerSecretSchemes(); err != nil {
		return nil, err
	}
	return config.Load(path)
}

// awsSecretRef reports whether ref is resolved by AWS.
func awsSecretRef(ref string) bool {
	return awssecret.IsAWSRef(ref)
}

// usesAWS reports whether any part of cfg talks to AWS.
func usesAWS(cfg *config.Config) bool {
	o := cfg.Organization
	return cfg.Providers.ECS != nil || cfg.Providers.EC2 != nil || cfg.CloudWatch.Enabled || cfg.VMResources != nil ||
		awsSecretRef(o.PAT) || awsSecretRef(o.BearerToken) || awsSecretRef(o.AgentToken) ||
		notifyUsesAWS(cfg) || storeUsesAWS(cfg.Store)
}

// loadAWS returns the AWS SDK config (credentials from the SDK's chain, region from aws.region),
// or nil when nothing in cfg uses AWS, so that a local-only setup never looks for credentials.
func loadAWS(ctx context.Context, cfg *config.Config) (*aws.Config, error) {
	if !usesAWS(cfg) {
		return nil, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.AWS.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.AWS.Region))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return &ac, nil
}

// regional returns a copy of ac in region, or ac's own region when region is "".
func regional(ac *aws.Config, region string) aws.Config {
	c := ac.Copy()
	if region != "" {
		c.Region = region
	}
	return c
}

// newSecrets returns the registry secrets are resolved with: env: and file:, plus ssm: and
// secretsmanager: with real clients when an AWS config is loaded.
func newSecrets(ac *aws.Config, log *slog.Logger) (*secret.Registry, error) {
	reg := secret.NewRegistry(log)
	if ac != nil {
		if err := awssecret.Register(reg, *ac); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// addAWSProviders registers the ecs and ec2 providers that cfg configures.
func addAWSProviders(providers *provider.Registry, cfg *config.Config, ac *aws.Config, reg prometheus.Registerer, log *slog.Logger, instrument ...provider.InstrumentOption) error {
	if e := cfg.Providers.ECS; e != nil {
		p, err := newECSProvider(cfg, e, ac, reg, log)
		if err != nil {
			return fmt.Errorf("providers.ecs: %w", err)
		}
		if err := providers.Register("ecs", provider.Instrument("ecs", p, reg, instrument...)); err != nil {
			return err
		}
	}
	if e := cfg.Providers.EC2; e != nil {
		p, err := newEC2Provider(cfg, e, ac, log)
		if err != nil {
			return fmt.Errorf("providers.ec2: %w", err)
		}
		if err := providers.Register("ec2", provider.Instrument("ec2", p, reg, instrument...)); err != nil {
			return err
		}
	}
	return nil
}

func newECSProvider(cfg *config.Config, e *config.ECSProvider, ac *aws.Config, reg prometheus.Registerer, log *slog.Logger) (*ecs.Provider, error) {
	if ac == nil {
		return nil, fmt.Errorf("no AWS config loaded")
	}
	client := ecs.NewClient(regional(ac, e.Region), ecs.ClientOptions{MaxAttempts: e.MaxAttempts, BaseEndpoint: e.Endpoint})
	strategy := make([]ecs.CapacityProvider, 0, len(e.CapacityProviderStrategy))
	for _, cp := range e.CapacityProviderStrategy {
		// Validation bounds weight to 0-1000 and base to 0-100000.
		strategy = append(strategy, ecs.CapacityProvider{Provider: cp.Provider, Weight: int32(cp.Weight), Base: int32(cp.Base)})
	}
	secrets := make([]ecs.Secret, 0, len(e.Secrets))
	for _, s := range e.Secrets {
		secrets = append(secrets, ecs.Secret{Name: s.Name, ValueFrom: s.ValueFrom})
	}
	return ecs.New(client, ecs.Options{
		Cluster: e.Cluster, TaskDefinition: e.TaskDefinition, ContainerName: e.ContainerName,
		LaunchType: e.LaunchType, CapacityProviderStrategy: strategy,
		Subnets: e.Subnets, SecurityGroups: e.SecurityGroups, AssignPublicIP: e.AssignPublicIP,
		PlatformVersion: e.PlatformVersion, CPU: e.CPU, Memory: e.Memory, Env: e.Env,
		Secrets: secrets, Group: e.Group, Controller: cfg.Controller.ID,
		Logger: log, Registerer: reg, CallTimeout: e.CallTimeout.D(),
	})
}

func newEC2Provider(cfg *config.Config, e *config.EC2Provider, ac *aws.Config, log *slog.Logger) (*ec2.Provider, error) {
	if ac == nil {
		return nil, fmt.Errorf("no AWS config loaded")
	}
	rc := regional(ac, e.Region)
	return ec2.New(ec2.Options{
		EC2: ec2sdk.NewFromConfig(rc, func(o *ec2sdk.Options) {
			if e.Endpoint != "" {
				o.BaseEndpoint = aws.String(e.Endpoint)
			}
		}),
		AutoScaling: autoscaling.NewFromConfig(rc, func(o *autoscaling.Options) {
			if e.AutoScalingEndpoint != "" {
				o.BaseEndpoint = aws.String(e.AutoScalingEndpoint)
			}
		}),
		LaunchTemplate: ec2.LaunchTemplate{ID: e.LaunchTemplate.ID, Name: e.LaunchTemplate.Name, Version: e.LaunchTemplate.Version},
		InstanceTypes:  e.InstanceTypes, Subnets: e.Subnets, Spot: e.Spot,
		Mode: e.Mode, AutoScalingGroup: e.AutoScalingGroup,
		UserData: e.UserData, TokenParameter: e.TokenParameter, AgentPackageURL: e.AgentPackageURL,
		Controller: cfg.Controller.ID, Logger: log, Concurrency: e.Concurrency,
	})
}

// startCloudWatch publishes the controller's per-pool gauges while this replica leads (a follower's
// controller has no fresh status), when enabled.
func startCloudWatch(led *leaderOnly, cfg *config.Config, ac *aws.Config, ctrl *controller.Controller, reg prometheus.Registerer, log *slog.Logger) error {
	cwc := cfg.CloudWatch
	if !cwc.Enabled {
		return nil
	}
	if ac == nil {
		return fmt.Errorf("cloudwatch: no AWS config loaded")
	}
	api := cwsdk.NewFromConfig(regional(ac, cwc.Region), func(o *cwsdk.Options) {
		if cwc.Endpoint != "" {
			o.BaseEndpoint = aws.String(cwc.Endpoint)
		}
	})
	pub, err := cloudwatch.New(api, cloudwatch.SourceFunc(func(ctx context.Context) ([]cloudwatch.PoolGauges, error) {
		st, err := ctrl.Status(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]cloudwatch.PoolGauges, 0, len(st.Pools))
		for _, p := range st.Pools {
			out = append(out, cloudwatch.PoolGauges{
				Pool: p.Name, QueueDepth: p.QueuedJobs,
				Busy: p.Agents.Busy, Idle: p.Agents.Idle, Starting: p.Agents.Starting,
			})
		}
		return out, nil
	}), cloudwatch.Options{
		Namespace: cwc.Namespace, Interval: cwc.Interval.D(),
		Log: log, Registerer: reg,
	})
	if err != nil {
		return fmt.Errorf("cloudwatch: %w", err)
	}
	led.Go(func(ctx context.Context) error {
		pub.Run(ctx)
		return nil
	})
	return nil
}
