package kubernetes

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/adofleet/adofleet/internal/provider"
)

// List returns the pool's Pods started by this controller: one list by label selector, then the
// exact pool and controller in the annotations (a label value may be a hash). It also cleans up,
// best effort: a Pod that failed to start is deleted in the same call that first lists it as
// terminated with its reason, and an ended Pod once it has been over for FinishedRetention.
func (p *Provider) List(ctx context.Context, pool string) ([]provider.Instance, error) {
	pods, err := p.listPods(ctx, p.poolSelector(pool))
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider: list pool %q: %w", pool, err)
	}
	now := p.now()
	out := make([]provider.Instance, 0, len(pods))
	var reap []*corev1.Pod
	for i := range pods {
		pod := &pods[i]
		if pod.Annotations[LabelPool] != pool || pod.Annotations[LabelController] != p.opts.Controller {
			continue
		}
		o := p.instance(pod, now)
		out = append(out, o.inst)
		switch {
		case pod.DeletionTimestamp != nil:
		case o.failedStart:
			p.log.Warn("agent pod failed to start; deleting it", "pool", pool, "pod", pod.Name, "reason", o.inst.Reason)
			reap = append(reap, pod)
		case o.inst.State == provider.StateTerminated && now.Sub(o.endedAt) >= p.opts.FinishedRetention:
			reap = append(reap, pod)
		}
	}
	p.reap(ctx, reap)
	provider.SortInstances(out)
	return out, nil
}

// reap deletes pods, at most 10 at a time. A failure is logged, not returned: the next List
// tries again.
func (p *Provider) reap(ctx context.Context, pods []*corev1.Pod) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxConcurrentCalls)
	for _, pod := range pods {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := p.delete(ctx, pod.Namespace, pod.Name, pod.UID); err != nil {
				p.log.Warn("cannot delete ended agent pod", "pod", pod.Name, "err", err)
			}
		})
	}
	wg.Wait()
}

// delete deletes the named Pod; one already gone is not an error. With uid set, only that Pod:
// a precondition keeps a clean-up from deleting a newer Pod of the same name.
func (p *Provider) delete(ctx context.Context, namespace, name string, uid types.UID) error {
	opts := metav1.DeleteOptions{}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	cctx, cancel := p.call(ctx)
	defer cancel()
	err := p.client.CoreV1().Pods(namespace).Delete(cctx, name, opts)
	switch {
	case err == nil, apierrors.IsNotFound(err):
		return nil
	case uid != "" && apierrors.IsConflict(err):
		return nil // the precondition failed: the Pod of that name is another one now
	}
	return fmt.Errorf("delete pod %s/%s: %w", namespace, name, classify(err))
}
