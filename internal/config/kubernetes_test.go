package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/config"
)

func TestKubernetesProviderValidate(t *testing.T) {
	t.Parallel()
	secs := 30
	valid := func() config.KubernetesProvider {
		return config.KubernetesProvider{
			Namespace: "ado-agents", Image: "registry.example/ado-agent:1", ImagePullPolicy: "IfNotPresent",
			ServiceAccountName: "ado-agent", TokenSecret: config.KubernetesSecretKey{Name: "ado-token", Key: "token"},
			Resources:   config.KubernetesResources{Requests: map[string]string{"cpu": "500m", "memory": "2Gi"}, Limits: map[string]string{"memory": "4Gi"}},
			Tolerations: []config.KubernetesToleration{{Key: "agents", Operator: "Equal", Value: "true", Effect: "NoExecute", TolerationSeconds: &secs}},
			Volumes: []config.KubernetesVolume{
				{Name: "cache", MountPath: "/cache", PersistentVolumeClaim: "agent-cache"},
				{Name: "work", MountPath: "/azp/_work", EmptyDir: &config.KubernetesEmptyDir{SizeLimit: "20Gi"}},
			},
			SecretEnv: []config.KubernetesSecretEnv{{Name: "CACHE_KEY", SecretName: "cache", Key: "key"}},
		}
	}
	tests := []validateCase[config.KubernetesProvider]{
		{"valid", func(*config.KubernetesProvider) {}, nil},
		{"missing required", func(p *config.KubernetesProvider) { p.Namespace, p.Image, p.TokenSecret.Name = "", "", "" },
			[]string{"providers.kubernetes.namespace", "providers.kubernetes.image", "providers.kubernetes.tokenSecret.name"}},
		{"bad names", func(p *config.KubernetesProvider) {
			p.Namespace, p.ServiceAccountName, p.ImagePullSecrets = "Ado_Agents", "Agent SA", []string{"reg cred"}
		}, []string{"providers.kubernetes.namespace", "providers.kubernetes.imagePullSecrets[0]", "providers.kubernetes.serviceAccountName"}},
		{"bad pull policy", func(p *config.KubernetesProvider) { p.ImagePullPolicy = "always" }, []string{"providers.kubernetes.imagePullPolicy"}},
		{"bad quantities", func(p *config.KubernetesProvider) {
			p.Resources.Requests["memory"] = "2 GB"
			p.Resources.Limits["cpu"] = "lots"
		}, []string{"providers.kubernetes.resources.requests.memory", "providers.kubernetes.resources.limits.cpu"}},
		{"bad toleration", func(p *config.KubernetesProvider) {
			p.Tolerations[0].Operator, p.Tolerations[0].Effect = "Exists", "NoRun"
		}, []string{"providers.kubernetes.tolerations[0].value", "providers.kubernetes.tolerations[0].effect", "providers.kubernetes.tolerations[0].tolerationSeconds"}},
		{"volume with two sources", func(p *config.KubernetesProvider) { p.Volumes[0].HostPath = "/var/cache" },
			[]string{"providers.kubernetes.volumes[0]"}},
		{"volume with relative paths and a duplicate name", func(p *config.KubernetesProvider) {
			p.Volumes[0].MountPath = "cache"
			p.Volumes[1].Name = "cache"
		}, []string{"providers.kubernetes.volumes[0].mountPath", "providers.kubernetes.volumes[1].name"}},
		{"token as plain env", func(p *config.KubernetesProvider) { p.Env = map[string]string{"AZP_TOKEN": "x"} },
			[]string{"providers.kubernetes.env.AZP_TOKEN"}},
		{"token as secret env", func(p *config.KubernetesProvider) { p.SecretEnv[0].Name = "AZP_TOKEN" },
			[]string{"providers.kubernetes.secretEnv[0].name"}},
		{"negative rate and durations", func(p *config.KubernetesProvider) {
			p.QPS, p.Burst, p.CallTimeout = -1, -1, config.Duration(-time.Second)
		}, []string{"providers.kubernetes.qps", "providers.kubernetes.burst", "providers.kubernetes.callTimeout"}},
	}
	testValidate(t, valid, (*config.KubernetesProvider).Validate, "providers.kubernetes", tests, nil)
}

func TestKubernetesProviderParse(t *testing.T) {
	t.Parallel()
	const file = `organization:
  url: https://dev.azure.com/contoso
  pat: env:ADO_PAT
providers:
  kubernetes:
    namespace: ado-agents
    image: registry.example/ado-agent:1
    tokenSecret: {name: ado-token}
    nodeSelector: {kubernetes.io/os: linux}
    volumes:
      - {name: cache, mountPath: /cache, persistentVolumeClaim: agent-cache}
pools:
  - name: k8s
    provider: kubernetes
    max: 4
    resources: {cpu: 750m, memory: 3Gi}
`
	cfg, err := config.Parse("k8s.yaml", []byte(file))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	k := cfg.Providers.Kubernetes
	if got, want := k.TokenSecret.Key, config.DefaultKubernetesTokenKey; got != want {
		t.Errorf("tokenSecret.key = %q, want the default %q", got, want)
	}
	if got, want := k.StartFailureTimeout.D(), config.DefaultKubernetesStartFailureTimeout; got != want {
		t.Errorf("startFailureTimeout = %v, want the default %v", got, want)
	}
	if got, want := k.Volumes[0].PersistentVolumeClaim, "agent-cache"; got != want {
		t.Errorf("volumes[0].persistentVolumeClaim = %q, want %q", got, want)
	}

	bad := strings.Replace(file, "memory: 3Gi", "memory: 3 GB", 1)
	bad = strings.Replace(bad, "tokenSecret: {name: ado-token}", "tokenSecret: {key: token}", 1)
	_, err = config.Parse("k8s.yaml", []byte(bad))
	var errs *config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse(bad) = %v, want *config.Errors", err)
	}
	var got []string
	for _, e := range errs.List {
		got = append(got, e.Field)
	}
	want := []string{"providers.kubernetes.tokenSecret.name", "pools[0].resources.memory"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error fields (-want +got):\n%s\n%v", diff, err)
	}
	if errs.List[0].Line != 8 || errs.List[1].Line != 16 {
		t.Errorf("error lines = %d, %d; want 8, 16:\n%v", errs.List[0].Line, errs.List[1].Line, err)
	}
}
