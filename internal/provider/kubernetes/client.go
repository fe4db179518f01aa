package kubernetes

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client defaults. client-go's own (5 requests/s, burst 10) are meant for a kubectl run; a
// controller launching a batch of agents needs more, and the API server's priority and fairness
// answers 429 with Retry-After when it has had enough, which client-go honours (up to 10 retries).
const (
	DefaultQPS   = 20
	DefaultBurst = 40
)

// ClientOptions say how to reach the cluster.
type ClientOptions struct {
	// Kubeconfig is a kubeconfig file; "" means in-cluster (the Pod's service account), else
	// $KUBECONFIG or ~/.kube/config.
	Kubeconfig string
	// Context of the kubeconfig to use; "" is its current context.
	Context string
	// QPS and Burst bound this client's request rate (defaults 20 and 40).
	QPS   float32
	Burst int
	// Timeout bounds each HTTP request (a backstop under the callers' contexts). Default 30s.
	Timeout time.Duration
}

// RESTConfig returns the client configuration for opts: in-cluster when running in a Pod and no
// kubeconfig is named, else from the kubeconfig loading rules; then Tune.
func RESTConfig(opts ClientOptions) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if opts.Kubeconfig == "" && opts.Context == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil && !errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("in-cluster config: %w", err)
		}
	}
	if cfg == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = opts.Kubeconfig
		overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
	}
	Tune(cfg, opts)
	return cfg, nil
}

// Tune sets the rate limit, the request timeout, the user agent and the wire format of cfg.
// The format is JSON, not the protobuf client-go's generated clients otherwise prefer for
// built-in types: a handful of Pods per cycle makes the difference in cost negligible, and JSON is
// what this package's recorded-wire tests check, so production speaks what was tested.
func Tune(cfg *rest.Config, opts ClientOptions) {
	cfg.QPS, cfg.Burst, cfg.Timeout = opts.QPS, opts.Burst, opts.Timeout
	if cfg.QPS <= 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCallTimeout
	}
	cfg.UserAgent = "adofleet"
	cfg.ContentType = "application/json"
}

// NewClient returns a clientset for opts (see RESTConfig).
func NewClient(opts ClientOptions) (kubernetes.Interface, error) {
	cfg, err := RESTConfig(opts)
	if err != nil {
		return nil, err
	}
	return NewClientForConfig(cfg)
}

// NewClientForConfig returns a clientset for a tuned cfg.
func NewClientForConfig(cfg *rest.Config) (kubernetes.Interface, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("new clientset: %w", err)
	}
	return cs, nil
}
