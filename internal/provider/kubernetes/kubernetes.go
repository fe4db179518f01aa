// Package kubernetes runs each agent as its own Pod in one namespace of a Kubernetes cluster.
//
// One bare Pod per agent, restartPolicy Never: the agent runs its one job (AZP_ONCE) and its
// container exits, which ends the Pod. A Job would add a second object per agent and a controller
// between adofleet and the Pod without giving anything adofleet needs: retries are adofleet's
// decision (a failed start is reported and the scaler launches again), and the clean-up a Job's
// ttlSecondsAfterFinished offers is done here by List (below).
//
// Labels and annotations. Every Pod carries the labels adofleet.io/pool, adofleet.io/controller,
// adofleet.io/agent and adofleet.io/launch, whose values are the names made valid label values
// (a name that is not one is sanitised and suffixed with a hash), so List finds a pool's Pods with
// one label selector. The exact names (and the launch token) are in annotations of the same keys,
// and the provider.Tag* view of an instance is read from those: label values cannot carry every
// pool name, annotations can, and a hash collision can never make another pool's Pod ours.
//
// Secrets. The agent's registration token comes from a Kubernetes Secret (Options.TokenSecret) as
// env valueFrom.secretKeyRef: the AZP_TOKEN the controller hands to Launch is dropped, so no
// token ever appears in a Pod spec, which anyone with "get pods" can read.
//
// Idempotency. A Pod's name is derived from controller, pool and agent (deterministic), and
// Launch first lists the Pods labelled with the launch's token: a Pod already there is returned,
// not created again; a create that races another answers AlreadyExists and the Pod is read back.
//
// Failed starts. A Pod that cannot be scheduled (PodScheduled=False, Unschedulable) for
// Options.UnschedulableTimeout, or whose container cannot start (ErrImagePull, ImagePullBackOff,
// CreateContainerConfigError ...) for Options.StartFailureTimeout, is listed once as terminated
// with the reason and deleted; an image name that can never work (InvalidImageName) fails at once.
// The controller reports such an instance as an agent that failed to start. A Pod that ended
// (Succeeded, Failed: a crash, OOMKilled, an eviction) is listed as terminated with its reason and
// deleted by List once it has been over for Options.FinishedRetention, so `kubectl logs` still
// works on a crashed agent for a while.
package kubernetes

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/adofleet/adofleet/internal/provider"
)

var _ provider.Provider = (*Provider)(nil)

// Label and annotation keys (the same key carries the sanitised value as a label and the exact
// value as an annotation).
const (
	LabelPool       = "adofleet.io/pool"
	LabelController = "adofleet.io/controller"
	LabelAgent      = "adofleet.io/agent"
	LabelLaunch     = "adofleet.io/launch" // the launch's idempotency token
	// AnnotationLaunchedAt records when the Pod was created, as the provider's clock saw it.
	AnnotationLaunchedAt = "adofleet.io/launched-at"
)

// Defaults.
const (
	ContainerName               = "agent"
	TokenEnv                    = "AZP_TOKEN"
	AgentNameEnv                = "AZP_AGENT_NAME"
	DefaultCallTimeout          = 30 * time.Second
	DefaultUnschedulableTimeout = 10 * time.Minute
	DefaultStartFailureTimeout  = 3 * time.Minute
	DefaultFinishedRetention    = 10 * time.Minute
	DefaultTokenSecretKey       = "token"

	maxConcurrentCalls = 10
)

// SecretKey names one key of a Kubernetes Secret in the Pods' namespace.
type SecretKey struct {
	Name string
	Key  string
}

// PodTemplate is what every agent Pod is made of; the provider adds the container's name, the
// agent's environment, labels and annotations.
type PodTemplate struct {
	// Image of the agent container. A launch's Template, when set, replaces it.
	Image            string
	ImagePullPolicy  corev1.PullPolicy
	ImagePullSecrets []string
	// ServiceAccountName runs the Pod as this service account. Without one the Pod gets no API
	// token mounted: an agent has no business with the cluster's API unless it is given one.
	ServiceAccountName string
	Resources          corev1.ResourceRequirements
	NodeSelector       map[string]string
	Tolerations        []corev1.Toleration
	// Volumes and their mounts in the agent container (caches: emptyDir, a PVC, hostPath).
	Volumes      []corev1.Volume
	VolumeMounts []corev1.VolumeMount
	// Env is plain environment added to every agent (values never logged).
	Env map[string]string
	// SecretEnv fills further variables from Secrets, by variable name.
	SecretEnv         map[string]SecretKey
	Labels            map[string]string
	Annotations       map[string]string
	PriorityClassName string
	// TerminationGracePeriod is how long the agent has after SIGTERM; 0 keeps Kubernetes' 30s.
	TerminationGracePeriod time.Duration
}

// Options configure a Provider.
type Options struct {
	// Client talks to the cluster (NewClient in production, the fake clientset in tests). Required.
	Client kubernetes.Interface
	// Namespace of the agent Pods. Required.
	Namespace string
	// Controller identifies this controller in labels. Required.
	Controller string
	Template   PodTemplate
	// TokenSecret holds the agents' registration token, read by the kubelet into AZP_TOKEN.
	// Required: the token never goes into the Pod spec.
	TokenSecret SecretKey
	// CallTimeout bounds every API call, client-go's retries included. Default 30s.
	CallTimeout time.Duration
	// UnschedulableTimeout: a Pod the scheduler cannot place for this long failed to start.
	// Default 10m, time for a cluster autoscaler to add a node.
	UnschedulableTimeout time.Duration
	// StartFailureTimeout: a Pod whose container cannot be created or pulled for this long
	// failed to start. Default 3m.
	StartFailureTimeout time.Duration
	// FinishedRetention: an ended Pod is deleted by List this long after it ended. Default 10m.
	FinishedRetention time.Duration
	Logger            *slog.Logger
	// Clock is the time source (a seam for tests). Default time.Now.
	Clock func() time.Time
}

// Provider runs agents as Pods. It is safe for concurrent use.
type Provider struct {
	client kubernetes.Interface
	opts   Options
	log    *slog.Logger
	now    func() time.Time
}

// New checks opts and returns a Provider. It makes no call.
func New(opts Options) (*Provider, error) {
	switch {
	case opts.Client == nil:
		return nil, fmt.Errorf("kubernetes provider: option Client is required")
	case opts.Namespace == "":
		return nil, fmt.Errorf("kubernetes provider: option Namespace is required")
	case opts.Controller == "":
		return nil, fmt.Errorf("kubernetes provider: option Controller is required")
	case opts.Template.Image == "":
		return nil, fmt.Errorf("kubernetes provider: option Template.Image is required")
	case opts.TokenSecret.Name == "":
		return nil, fmt.Errorf("kubernetes provider: option TokenSecret.Name is required")
	}
	if _, ok := opts.Template.Env[TokenEnv]; ok {
		return nil, fmt.Errorf("kubernetes provider: Template.Env must not set %s; it comes from TokenSecret", TokenEnv)
	}
	if opts.TokenSecret.Key == "" {
		opts.TokenSecret.Key = DefaultTokenSecretKey
	}
	setDefault(&opts.CallTimeout, DefaultCallTimeout)
	setDefault(&opts.UnschedulableTimeout, DefaultUnschedulableTimeout)
	setDefault(&opts.StartFailureTimeout, DefaultStartFailureTimeout)
	setDefault(&opts.FinishedRetention, DefaultFinishedRetention)
	p := &Provider{client: opts.Client, opts: opts, log: opts.Logger, now: opts.Clock}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "provider.kubernetes", "namespace", opts.Namespace)
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// call bounds one API call (client-go's retries included) by Options.CallTimeout.
func (p *Provider) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.opts.CallTimeout)
}
