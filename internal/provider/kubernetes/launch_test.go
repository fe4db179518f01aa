package kubernetes_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	k8stesting "k8s.io/client-go/testing"

	"github.com/adofleet/adofleet/internal/provider"
)

func TestLaunchCreatesOnePodPerAgentFromTheTemplate(t *testing.T) {
	t.Parallel()
	p, cs, _ := newProvider(t)
	req := launchReq("Linux builds", "tok-1", "linux-builds-a1", "linux-builds-a2")
	req.Resources = provider.Resources{CPU: "2", Memory: "4Gi"}
	insts, err := p.Launch(ctx(t), req)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	if got, want := len(insts), 2; got != want {
		t.Fatalf("instances = %d, want %d", got, want)
	}
	for _, inst := range insts {
		pod := getPod(t, cs, inst.ID)
		if got, want := inst.Tags[provider.TagPool], "Linux builds"; got != want {
			t.Errorf("tag pool = %q, want %q", got, want)
		}
		if !provider.IsOurs(inst, "Linux builds", controller) {
			t.Errorf("instance %s is not ours by its tags: %v", inst.ID, inst.Tags)
		}
		if got, want := inst.State, provider.StatePending; got != want {
			t.Errorf("state = %q, want %q", got, want)
		}
		for k, v := range pod.Labels {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Errorf("label %s=%q is not a valid label value: %v", k, v, errs)
			}
		}
		if errs := validation.IsDNS1123Label(pod.Name); len(errs) > 0 {
			t.Errorf("pod name %q is not a DNS label: %v", pod.Name, errs)
		}
		if got, want := pod.Annotations["adofleet.io/agent"], inst.AgentName; got != want {
			t.Errorf("agent annotation = %q, want %q", got, want)
		}
		spec := pod.Spec
		if got, want := spec.RestartPolicy, corev1.RestartPolicyNever; got != want {
			t.Errorf("restartPolicy = %q, want %q", got, want)
		}
		if got, want := pod.Labels["team"], "build"; got != want {
			t.Errorf("template label team = %q, want %q", got, want)
		}
		if got, want := spec.ServiceAccountName, "ado-agent"; got != want {
			t.Errorf("serviceAccountName = %q, want %q", got, want)
		}
		if diff := cmp.Diff(map[string]string{"kubernetes.io/os": "linux"}, spec.NodeSelector); diff != "" {
			t.Errorf("nodeSelector (-want +got):\n%s", diff)
		}
		if got, want := len(spec.Tolerations), 1; got != want {
			t.Errorf("tolerations = %d, want %d", got, want)
		}
		if got, want := spec.ImagePullSecrets, []corev1.LocalObjectReference{{Name: "regcred"}}; !cmp.Equal(got, want) {
			t.Errorf("imagePullSecrets = %v, want %v", got, want)
		}
		c := spec.Containers[0]
		if got, want := c.Image, "registry.example/ado-agent:1"; got != want {
			t.Errorf("image = %q, want %q", got, want)
		}
		if got, want := c.VolumeMounts, []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}}; !cmp.Equal(got, want) {
			t.Errorf("volumeMounts = %v, want %v", got, want)
		}
		// The pool's size replaces the requests; the memory limit below it is raised.
		if got, want := c.Resources.Requests.Cpu().String(), "2"; got != want {
			t.Errorf("cpu request = %s, want %s", got, want)
		}
		if got, want := c.Resources.Limits.Memory().String(), "4Gi"; got != want {
			t.Errorf("memory limit = %s, want %s", got, want)
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		if got, want := env["AZP_AGENT_NAME"].Value, inst.AgentName; got != want {
			t.Errorf("AZP_AGENT_NAME = %q, want %q", got, want)
		}
		if got, want := env["NUGET_PACKAGES"].Value, "/cache/nuget"; got != want {
			t.Errorf("NUGET_PACKAGES = %q, want %q", got, want)
		}
		tok := env["AZP_TOKEN"]
		if tok.Value != "" || tok.ValueFrom == nil || tok.ValueFrom.SecretKeyRef == nil ||
			tok.ValueFrom.SecretKeyRef.Name != "ado-token" || tok.ValueFrom.SecretKeyRef.Key != "pat" {
			t.Errorf("AZP_TOKEN = %+v, want valueFrom secretKeyRef ado-token/pat", tok)
		}
		if ref := env["CACHE_KEY"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != "cache" {
			t.Errorf("CACHE_KEY = %+v, want valueFrom secretKeyRef cache/key", env["CACHE_KEY"])
		}
		b, _ := json.Marshal(pod)
		if strings.Contains(string(b), secretPAT) {
			t.Errorf("the token's value is in the pod: %s", b)
		}
	}
}

func TestLaunchIsIdempotentPerToken(t *testing.T) {
	t.Parallel()
	p, cs, _ := newProvider(t)
	req := launchReq("pool", "tok-1", "a1", "a2")
	first, err := p.Launch(ctx(t), req)
	if err != nil {
		t.Fatalf("first Launch: %v", err)
	}
	again, err := p.Launch(ctx(t), req)
	if err != nil {
		t.Fatalf("second Launch: %v", err)
	}
	if got, want := countVerb(cs, "create"), 2; got != want {
		t.Errorf("creates = %d, want %d (the second launch must create nothing)", got, want)
	}
	ids := func(in []provider.Instance) (out []string) {
		for _, i := range in {
			out = append(out, i.ID)
		}
		return out
	}
	if diff := cmp.Diff(ids(first), ids(again)); diff != "" {
		t.Errorf("second launch's instances differ (-first +second):\n%s", diff)
	}
}

func TestLaunchRefusesAPodOfAnotherLaunch(t *testing.T) {
	t.Parallel()
	p, _, _ := newProvider(t)
	if _, err := p.Launch(ctx(t), launchReq("pool", "tok-1", "a1")); err != nil {
		t.Fatal(err)
	}
	insts, err := p.Launch(ctx(t), launchReq("pool", "tok-2", "a1", "a2"))
	var pe *provider.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *provider.PartialError", err)
	}
	if _, ok := pe.Failed["a1"]; !ok || len(pe.Failed) != 1 {
		t.Errorf("failed = %v, want only a1", pe.Failed)
	}
	if got, want := len(insts), 1; got != want {
		t.Errorf("started = %d, want %d (a2)", got, want)
	}
}

func TestLaunchClassifiesAPIErrors(t *testing.T) {
	t.Parallel()
	gr := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"quota", apierrors.NewForbidden(gr, "x", errors.New("exceeded quota: compute, requested: cpu=1, used: cpu=4, limited: cpu=4")), provider.ErrInsufficientCapacity},
		{"rbac", apierrors.NewForbidden(gr, "x", errors.New(`User "system:serviceaccount:a:b" cannot create resource "pods"`)), provider.ErrInvalidRequest},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "x", nil), provider.ErrInvalidRequest},
		{"no namespace", apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, ns), provider.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, cs, _ := newProvider(t)
			cs.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tt.err })
			_, err := p.Launch(ctx(t), launchReq("pool", "tok", "a1"))
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.want)
			}
		})
	}
}

func TestLaunchRefusesABadPoolSize(t *testing.T) {
	t.Parallel()
	p, cs, _ := newProvider(t)
	req := launchReq("pool", "tok", "a1")
	req.Resources = provider.Resources{Memory: "2 GB"}
	if _, err := p.Launch(ctx(t), req); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("err = %v, want ErrInvalidRequest", err)
	}
	if got := countVerb(cs, "create"); got != 0 {
		t.Errorf("creates = %d, want 0", got)
	}
}

func TestTemplateOverridesTheImage(t *testing.T) {
	t.Parallel()
	p, cs, _ := newProvider(t)
	req := launchReq("pool", "tok", "a1")
	req.Template = "registry.example/ado-agent:gpu"
	insts, err := p.Launch(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := getPod(t, cs, insts[0].ID).Spec.Containers[0].Image, req.Template; got != want {
		t.Errorf("image = %q, want %q", got, want)
	}
}
