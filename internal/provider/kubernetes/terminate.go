package kubernetes

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/adofleet/adofleet/internal/provider"
)

// Terminate deletes the given Pods (ids "namespace/name" as List and Launch return them), at most
// 10 deletes at once, with the Pods' own grace period: the agent gets SIGTERM first. It returns
// once the API server has accepted each deletion; the Pod is listed as stopping until it is gone.
// A Pod that no longer exists is not an error.
func (p *Provider) Terminate(ctx context.Context, ids []string) error {
	return provider.TerminateEach(ctx, ids, maxConcurrentCalls, func(ctx context.Context, id string) error {
		ns, name, err := parseID(id)
		if err != nil {
			return fmt.Errorf("kubernetes provider: terminate %q: %w", id, err)
		}
		if err := p.delete(ctx, ns, name, ""); err != nil {
			return fmt.Errorf("kubernetes provider: %w", err)
		}
		p.log.Info("agent pod deleted on request", "pod", name)
		return nil
	})
}

// parseID splits "namespace/name", checking both are DNS names the API would accept in a path.
func parseID(id string) (namespace, name string, err error) {
	namespace, name, ok := strings.Cut(id, "/")
	if !ok || len(validation.IsDNS1123Label(namespace)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return "", "", fmt.Errorf("%w: not a pod id (namespace/name)", provider.ErrInvalidRequest)
	}
	return namespace, name, nil
}
