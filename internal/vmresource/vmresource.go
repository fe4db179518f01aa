package vmresource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	awsec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/ado"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/store"
)

// ErrPoison marks a message that can never be handled (not JSON, an unknown shape, a required
// field missing); the error wrapping it names the field. A poison message goes to the dead-letter
// queue at once.
var ErrPoison = errors.New("vmresource: message can never be handled")

// DefaultRecordTTL is how long a gone record is kept so late or duplicated events find it.
const DefaultRecordTTL = 7 * 24 * time.Hour

// ADO is the part of the ADO client the package uses; *ado.Client implements it.
type ADO interface {
	FindEnvironment(ctx context.Context, project, name string) (ado.Environment, error)
	ListVMResources(ctx context.Context, project string, environmentID int) ([]ado.VMResource, error)
	FindVMResources(ctx context.Context, project string, environmentID int, name string) ([]ado.VMResource, error)
	DeleteVMResource(ctx context.Context, project string, environmentID, resourceID int) error
	GetEnvironmentDeploymentPool(ctx context.Context, project string, environmentID int) (ado.Pool, error)
	ListAgents(ctx context.Context, poolID int) ([]ado.Agent, error)
	FindAgents(ctx context.Context, poolID int, name string) ([]ado.Agent, error)
	DeleteAgent(ctx context.Context, poolID, agentID int) error
}

// EC2 is the part of the EC2 client the package uses; *ec2.Client implements it.
type EC2 interface {
	DescribeInstances(context.Context, *awsec2.DescribeInstancesInput, ...func(*awsec2.Options)) (*awsec2.DescribeInstancesOutput, error)
}

// AutoScaling is the part of the Auto Scaling client the package uses; *autoscaling.Client
// implements it.
type AutoScaling interface {
	CompleteLifecycleAction(context.Context, *autoscaling.CompleteLifecycleActionInput, ...func(*autoscaling.Options)) (*autoscaling.CompleteLifecycleActionOutput, error)
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// Target is one configured Environment and the Auto Scaling groups whose instances register in it.
type Target struct {
	Project, Environment string
	// AutoScalingGroups are group names; an event for any other group is ignored (and deleted
	// from the queue).
	AutoScalingGroups []string
	// Tags are the VM resource tags the instances register with (recorded, for reporting).
	Tags []string
}

// Options configure a Manager.
type Options struct {
	ADO         ADO         // required
	EC2         EC2         // required (Reconcile)
	AutoScaling AutoScaling // required (lifecycle actions, Reconcile)
	Store       store.VMResources
	Targets     []Target
	// Events receives VMResourceDeregistered / VMResourceDeregisterFailed; nil discards.
	Events notify.Publisher
	// DryRun logs and reports what would be done and changes nothing in ADO, AWS or the store.
	DryRun bool
	// RecordTTL is how long gone records are kept (their ExpiresAt); default DefaultRecordTTL.
	RecordTTL  time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Manager handles lifecycle events and reconciles Environments with their groups.
type Manager struct {
	o       Options
	log     *slog.Logger
	m       *metrics
	byGroup map[string]*Target // Auto Scaling group name -> its target
	envs    *envCache
}

// New checks o and returns a Manager.
func New(o Options) (*Manager, error) {
	if o.ADO == nil {
		return nil, errors.New("vmresource: Options.ADO is nil")
	}
	if o.EC2 == nil {
		return nil, errors.New("vmresource: Options.EC2 is nil")
	}
	if o.AutoScaling == nil {
		return nil, errors.New("vmresource: Options.AutoScaling is nil")
	}
	if o.Store == nil {
		return nil, errors.New("vmresource: Options.Store is nil")
	}
	if o.Events == nil {
		o.Events = notify.Discard
	}
	if o.RecordTTL <= 0 {
		o.RecordTTL = DefaultRecordTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{o: o, log: o.Logger.With("component", "vmresource"), byGroup: map[string]*Target{}}
	for i := range o.Targets {
		t := &o.Targets[i]
		if t.Project == "" || t.Environment == "" {
			return nil, fmt.Errorf("vmresource: target %d: project and environment are required", i)
		}
		for _, g := range t.AutoScalingGroups {
			if prev, dup := m.byGroup[g]; dup {
				return nil, fmt.Errorf("vmresource: Auto Scaling group %q is in environments %q and %q", g, prev.Environment, t.Environment)
			}
			m.byGroup[g] = t
		}
	}
	mt, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	m.m = mt
	m.envs = newEnvCache(o.ADO)
	return m, nil
}

func (m *Manager) now() time.Time { return m.o.Now().UTC() }
