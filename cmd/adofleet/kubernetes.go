package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/klog/v2"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/provider"
	k8sprov "github.com/adofleet/adofleet/internal/provider/kubernetes"
)

// addKubernetesProvider registers the kubernetes provider when cfg configures it. Building it
// reads the kubeconfig or the in-cluster service account but makes no API call.
func addKubernetesProvider(providers *provider.Registry, cfg *config.Config, reg prometheus.Registerer, log *slog.Logger, instrument ...provider.InstrumentOption) error {
	k := cfg.Providers.Kubernetes
	if k == nil {
		return nil
	}
	p, err := newKubernetesProvider(cfg, k, log)
	if err != nil {
		return fmt.Errorf("providers.kubernetes: %w", err)
	}
	return providers.Register("kubernetes", provider.Instrument("kubernetes", p, reg, instrument...))
}

func newKubernetesProvider(cfg *config.Config, k *config.KubernetesProvider, log *slog.Logger) (*k8sprov.Provider, error) {
	// client-go logs through klog (retries, throttling): route it into our logger.
	klog.SetSlogLogger(log.With("component", "client-go"))
	client, err := k8sprov.NewClient(k8sprov.ClientOptions{
		Kubeconfig: k.Kubeconfig, Context: k.Context, QPS: float32(k.QPS), Burst: k.Burst, Timeout: k.CallTimeout.D(),
	})
	if err != nil {
		return nil, err
	}
	tmpl, err := kubernetesTemplate(k)
	if err != nil {
		return nil, err
	}
	return k8sprov.New(k8sprov.Options{
		Client: client, Namespace: k.Namespace, Controller: cfg.Controller.ID, Template: tmpl,
		TokenSecret: k8sprov.SecretKey{Name: k.TokenSecret.Name, Key: k.TokenSecret.Key},
		CallTimeout: k.CallTimeout.D(), UnschedulableTimeout: k.UnschedulableTimeout.D(),
		StartFailureTimeout: k.StartFailureTimeout.D(), FinishedRetention: k.FinishedRetention.D(),
		Logger: log,
	})
}

// kubernetesTemplate maps the config's pod template to the provider's (validated already; a
// quantity that still fails to parse is reported by field).
func kubernetesTemplate(k *config.KubernetesProvider) (k8sprov.PodTemplate, error) {
	t := k8sprov.PodTemplate{
		Image: k.Image, ImagePullPolicy: corev1.PullPolicy(k.ImagePullPolicy), ImagePullSecrets: k.ImagePullSecrets,
		ServiceAccountName: k.ServiceAccountName, NodeSelector: k.NodeSelector, Env: k.Env,
		Labels: k.Labels, Annotations: k.Annotations, PriorityClassName: k.PriorityClassName,
		TerminationGracePeriod: k.TerminationGracePeriod.D(),
	}
	var err error
	if t.Resources.Requests, err = quantities("resources.requests", k.Resources.Requests); err != nil {
		return t, err
	}
	if t.Resources.Limits, err = quantities("resources.limits", k.Resources.Limits); err != nil {
		return t, err
	}
	for _, tol := range k.Tolerations {
		ct := corev1.Toleration{Key: tol.Key, Operator: corev1.TolerationOperator(tol.Operator), Value: tol.Value, Effect: corev1.TaintEffect(tol.Effect)}
		if tol.TolerationSeconds != nil {
			s := int64(*tol.TolerationSeconds)
			ct.TolerationSeconds = &s
		}
		t.Tolerations = append(t.Tolerations, ct)
	}
	for _, v := range k.Volumes {
		vol, err := kubernetesVolume(v)
		if err != nil {
			return t, err
		}
		t.Volumes = append(t.Volumes, vol)
		t.VolumeMounts = append(t.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath, SubPath: v.SubPath, ReadOnly: v.ReadOnly})
	}
	if len(k.SecretEnv) > 0 {
		t.SecretEnv = map[string]k8sprov.SecretKey{}
		for _, e := range k.SecretEnv {
			t.SecretEnv[e.Name] = k8sprov.SecretKey{Name: e.SecretName, Key: e.Key}
		}
	}
	return t, nil
}

func kubernetesVolume(v config.KubernetesVolume) (corev1.Volume, error) {
	vol := corev1.Volume{Name: v.Name}
	switch {
	case v.EmptyDir != nil:
		ed := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(v.EmptyDir.Medium)}
		if v.EmptyDir.SizeLimit != "" {
			q, err := resource.ParseQuantity(v.EmptyDir.SizeLimit)
			if err != nil {
				return vol, fmt.Errorf("volumes %s: emptyDir.sizeLimit: %w", v.Name, err)
			}
			ed.SizeLimit = &q
		}
		vol.EmptyDir = ed
	case v.PersistentVolumeClaim != "":
		vol.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaim, ReadOnly: v.ReadOnly}
	case v.HostPath != "":
		vol.HostPath = &corev1.HostPathVolumeSource{Path: v.HostPath}
	case v.ConfigMap != "":
		vol.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: v.ConfigMap}}
	case v.Secret != "":
		vol.Secret = &corev1.SecretVolumeSource{SecretName: v.Secret}
	}
	return vol, nil
}

func quantities(field string, in map[string]string) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	for name, s := range in {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", field, name, err)
		}
		out[corev1.ResourceName(name)] = q
	}
	return out, nil
}
