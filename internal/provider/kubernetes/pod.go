package kubernetes

import (
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/adofleet/adofleet/internal/provider"
)

// pod is the Pod of one agent of req.
func (p *Provider) pod(req provider.LaunchRequest, agent string) (*corev1.Pod, error) {
	t := p.opts.Template
	image := t.Image
	if req.Template != "" {
		image = req.Template
	}
	res, err := p.resources(req.Resources)
	if err != nil {
		return nil, err
	}
	no := false
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        p.PodName(req.Pool, agent),
			Namespace:   p.opts.Namespace,
			Labels:      p.labels(req, agent),
			Annotations: p.annotations(req, agent),
		},
		Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			ServiceAccountName: t.ServiceAccountName,
			NodeSelector:       maps.Clone(t.NodeSelector),
			Tolerations:        slices.Clone(t.Tolerations),
			Volumes:            slices.Clone(t.Volumes),
			PriorityClassName:  t.PriorityClassName,
			Containers: []corev1.Container{{
				Name:            ContainerName,
				Image:           image,
				ImagePullPolicy: t.ImagePullPolicy,
				Env:             p.env(req.Env, agent),
				Resources:       res,
				VolumeMounts:    slices.Clone(t.VolumeMounts),
			}},
		},
	}
	if t.ServiceAccountName == "" {
		pod.Spec.AutomountServiceAccountToken = &no
	}
	for _, name := range t.ImagePullSecrets {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: name})
	}
	if t.TerminationGracePeriod > 0 {
		s := int64(t.TerminationGracePeriod / time.Second)
		pod.Spec.TerminationGracePeriodSeconds = &s
	}
	return pod, nil
}

// env is the template's Env, then the request's, then AZP_AGENT_NAME, as plain values; AZP_TOKEN
// and the template's SecretEnv come from Secrets. The AZP_TOKEN value the controller passes is
// dropped: a Pod spec is readable by anyone who may get Pods.
func (p *Provider) env(reqEnv map[string]string, agent string) []corev1.EnvVar {
	plain := maps.Clone(p.opts.Template.Env)
	if plain == nil {
		plain = map[string]string{}
	}
	maps.Copy(plain, reqEnv)
	plain[AgentNameEnv] = agent
	secrets := maps.Clone(p.opts.Template.SecretEnv)
	if secrets == nil {
		secrets = map[string]SecretKey{}
	}
	secrets[TokenEnv] = p.opts.TokenSecret
	for name := range secrets {
		delete(plain, name)
	}
	out := make([]corev1.EnvVar, 0, len(plain)+len(secrets))
	for _, k := range slices.Sorted(maps.Keys(plain)) {
		out = append(out, corev1.EnvVar{Name: k, Value: plain[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(secrets)) {
		ref := secrets[k]
		out = append(out, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}, Key: ref.Key,
		}}})
	}
	return out
}

// resources are the template's, with a pool's cpu and memory (Kubernetes quantities such as
// "500m", "2Gi") replacing the requests. A configured limit below a new request is raised to it,
// since the API server refuses a request above its limit.
func (p *Provider) resources(r provider.Resources) (corev1.ResourceRequirements, error) {
	t := p.opts.Template.Resources
	out := corev1.ResourceRequirements{Requests: maps.Clone(t.Requests), Limits: maps.Clone(t.Limits)}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: r.CPU, corev1.ResourceMemory: r.Memory} {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Sign() <= 0 {
			return out, fmt.Errorf("%w: pool %s %q is not a positive Kubernetes quantity such as 500m or 2Gi", provider.ErrInvalidRequest, name, v)
		}
		if out.Requests == nil {
			out.Requests = corev1.ResourceList{}
		}
		out.Requests[name] = q
		if l, ok := out.Limits[name]; ok && l.Cmp(q) < 0 {
			out.Limits[name] = q
		}
	}
	return out, nil
}

// labels are the template's, then the selectors' (valid label values of pool, controller, agent
// and token).
func (p *Provider) labels(req provider.LaunchRequest, agent string) map[string]string {
	l := maps.Clone(p.opts.Template.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[LabelPool] = LabelValue(req.Pool)
	l[LabelController] = LabelValue(p.opts.Controller)
	l[LabelAgent] = LabelValue(agent)
	if req.Token != "" {
		l[LabelLaunch] = LabelValue(req.Token)
	}
	return l
}

// annotations are the template's, then the exact pool, controller, agent and token under the
// label keys, and the launch time. List reads an instance's provider.Tag* view from these.
func (p *Provider) annotations(req provider.LaunchRequest, agent string) map[string]string {
	a := maps.Clone(p.opts.Template.Annotations)
	if a == nil {
		a = map[string]string{}
	}
	a[LabelPool] = req.Pool
	a[LabelController] = p.opts.Controller
	a[LabelAgent] = agent
	if req.Token != "" {
		a[LabelLaunch] = req.Token
	}
	a[AnnotationLaunchedAt] = p.now().UTC().Format(time.RFC3339)
	return a
}
