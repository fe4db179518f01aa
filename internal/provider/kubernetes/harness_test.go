package kubernetes_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/adofleet/adofleet/internal/provider"
	k8sprov "github.com/adofleet/adofleet/internal/provider/kubernetes"
	"github.com/adofleet/adofleet/internal/testclock"
)

const (
	ns         = "agents"
	controller = "ctl-1"
	secretPAT  = "pat-value-that-must-never-appear"
)

// newClock is the provider's test clock.
func newClock() *testclock.Manual {
	return testclock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

func ctx(t *testing.T) context.Context { return t.Context() }

// options are a full template, so tests see every part of it in the Pod.
func options(client kubernetes.Interface, c *testclock.Manual) k8sprov.Options {
	return k8sprov.Options{
		Client: client, Namespace: ns, Controller: controller, Clock: c.Now,
		TokenSecret: k8sprov.SecretKey{Name: "ado-token", Key: "pat"},
		Template: k8sprov.PodTemplate{
			Image:              "registry.example/ado-agent:1",
			ImagePullPolicy:    corev1.PullIfNotPresent,
			ImagePullSecrets:   []string{"regcred"},
			ServiceAccountName: "ado-agent",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("3Gi")},
			},
			NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
			Tolerations:  []corev1.Toleration{{Key: "agents", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule}},
			Volumes: []corev1.Volume{{Name: "cache", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "agent-cache"}}}},
			VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}},
			Env:          map[string]string{"NUGET_PACKAGES": "/cache/nuget"},
			SecretEnv:    map[string]k8sprov.SecretKey{"CACHE_KEY": {Name: "cache", Key: "key"}},
			Labels:       map[string]string{"team": "build"},
		},
	}
}

func newProvider(t *testing.T, objs ...*corev1.Pod) (*k8sprov.Provider, *fake.Clientset, *testclock.Manual) {
	t.Helper()
	cs := fake.NewClientset()
	for _, o := range objs {
		if _, err := cs.CoreV1().Pods(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cs.ClearActions()
	c := newClock()
	p, err := k8sprov.New(options(cs, c))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, cs, c
}

func launchReq(pool, token string, agents ...string) provider.LaunchRequest {
	req := provider.LaunchRequest{
		Token: token, Pool: pool,
		Tags: provider.TagsFor(pool, controller, "", ""),
		Env:  map[string]string{"AZP_URL": "https://dev.azure.com/contoso", "AZP_TOKEN": secretPAT, "AZP_POOL": pool},
	}
	for _, a := range agents {
		req.Agents = append(req.Agents, provider.AgentSpec{Name: a})
	}
	return req
}

// countVerb counts the fake clientset's actions of verb on pods.
func countVerb(cs *fake.Clientset, verb string) int {
	n := 0
	for _, a := range cs.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == "pods" {
			n++
		}
	}
	return n
}

func getPod(t *testing.T, cs kubernetes.Interface, id string) *corev1.Pod {
	t.Helper()
	_, name, _ := strings.Cut(id, "/")
	pod, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s: %v", id, err)
	}
	return pod
}
