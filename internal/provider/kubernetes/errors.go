package kubernetes

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/adofleet/adofleet/internal/provider"
)

// classify wraps an API error with the provider's typed error it stands for. client-go has already
// retried 429s and 5xx answers that carried a Retry-After by the time an error gets here.
//
// A ResourceQuota the namespace has used up answers 403 with "exceeded quota": capacity, which the
// controller backs off from. Any other 403 (RBAC), 422 (the Pod spec is invalid) and 400 are
// configuration that no retry fixes.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsForbidden(err) && strings.Contains(strings.ToLower(err.Error()), "exceeded quota"):
		return fmt.Errorf("%w: %w", provider.ErrInsufficientCapacity, err)
	case apierrors.IsForbidden(err), apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
		return fmt.Errorf("%w: %w", provider.ErrInvalidRequest, err)
	}
	return err
}

// classifyCreate is classify for a create, where NotFound means the namespace does not exist: a
// configuration error.
func classifyCreate(err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: %w", provider.ErrInvalidRequest, err)
	}
	return classify(err)
}
