package kubernetes

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/adofleet/adofleet/internal/provider"
)

// Launch creates one Pod per agent of req, at most 10 creates in flight, and returns once the API
// server has accepted each (it never waits for a Pod to be scheduled: a Pod that cannot be shows
// up in List). It is idempotent per req.Token: the launch's Pods already there are returned as
// they are. Agents that did not start come back in a *provider.PartialError.
func (p *Provider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	if req.Pool == "" {
		return nil, fmt.Errorf("kubernetes provider: launch: %w: no pool", provider.ErrInvalidRequest)
	}
	if len(req.Agents) == 0 {
		return nil, nil
	}
	if _, err := p.resources(req.Resources); err != nil {
		return nil, fmt.Errorf("kubernetes provider: launch: %w", err)
	}
	existing, err := p.launched(ctx, req)
	if err != nil {
		return nil, err
	}
	return provider.LaunchEach(ctx, req.Agents, maxConcurrentCalls, func(ctx context.Context, agent string) (provider.Instance, error) {
		if pod, ok := existing[p.PodName(req.Pool, agent)]; ok {
			p.log.Info("agent pod already launched with this token", "pool", req.Pool, "agent", agent, "pod", pod.Name)
			return p.instance(pod, p.now()).inst, nil
		}
		return p.create(ctx, req, agent)
	}, func(agent string, err error) {
		p.log.Warn("agent pod did not start", "pool", req.Pool, "agent", agent, "err", err)
	})
}

// launched returns the Pods of this launch that exist already, by name: one list by the launch's
// label, then the exact token and pool in the annotations.
func (p *Provider) launched(ctx context.Context, req provider.LaunchRequest) (map[string]*corev1.Pod, error) {
	out := map[string]*corev1.Pod{}
	if req.Token == "" {
		return out, nil
	}
	pods, err := p.listPods(ctx, p.launchSelector(req.Pool, req.Token))
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider: launch %d agent(s) of pool %q: find the launch's pods: %w", len(req.Agents), req.Pool, err)
	}
	for i := range pods {
		if p.sameLaunch(&pods[i], req) {
			out[pods[i].Name] = &pods[i]
		}
	}
	return out, nil
}

// create creates agent's Pod; a Pod of that name created meanwhile by the same launch is returned.
func (p *Provider) create(ctx context.Context, req provider.LaunchRequest, agent string) (provider.Instance, error) {
	pod, err := p.pod(req, agent)
	if err != nil {
		return provider.Instance{}, err
	}
	pods := p.client.CoreV1().Pods(p.opts.Namespace)
	cctx, cancel := p.call(ctx)
	created, err := pods.Create(cctx, pod, metav1.CreateOptions{})
	cancel()
	if err == nil {
		return p.instance(created, p.now()).inst, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return provider.Instance{}, fmt.Errorf("create pod %q for agent %q: %w", pod.Name, agent, classifyCreate(err))
	}
	cctx, cancel = p.call(ctx)
	got, gerr := pods.Get(cctx, pod.Name, metav1.GetOptions{})
	cancel()
	switch {
	case gerr != nil:
		return provider.Instance{}, fmt.Errorf("get pod %q for agent %q after AlreadyExists: %w", pod.Name, agent, classify(gerr))
	case req.Token != "" && p.sameLaunch(got, req):
		return p.instance(got, p.now()).inst, nil
	}
	// Never touch a Pod another launch made.
	return provider.Instance{}, fmt.Errorf("pod %q for agent %q already exists from another launch", pod.Name, agent)
}

// sameLaunch reports whether pod was made by this controller for req's pool and token, judged by
// the exact values in its annotations.
func (p *Provider) sameLaunch(pod *corev1.Pod, req provider.LaunchRequest) bool {
	a := pod.Annotations
	return a[LabelPool] == req.Pool && a[LabelController] == p.opts.Controller && a[LabelLaunch] == req.Token
}

// listPods lists the namespace's Pods matching selector, page by page.
func (p *Provider) listPods(ctx context.Context, selector string) ([]corev1.Pod, error) {
	var out []corev1.Pod
	opts := metav1.ListOptions{LabelSelector: selector, Limit: 500}
	for {
		cctx, cancel := p.call(ctx)
		list, err := p.client.CoreV1().Pods(p.opts.Namespace).List(cctx, opts)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("list pods %q: %w", selector, classify(err))
		}
		out = append(out, list.Items...)
		if list.Continue == "" {
			return out, nil
		}
		opts.Continue = list.Continue
	}
}
