package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/adofleet/adofleet/internal/config"
)

func TestValidateAcceptsTheKubernetesExample(t *testing.T) {
	t.Parallel()
	const f = "../../examples/kubernetes.yaml"
	out, stderr, err := runCLI(context.Background(), "validate", "-c", f)
	if err != nil {
		t.Fatalf("validate %s: %v\n%s", f, err, stderr)
	}
	if !strings.Contains(out, "ok") {
		t.Errorf("validate %s: output %q, want ok", f, out)
	}
}

// TestBuildProvidersRegistersKubernetes builds the provider from the example's settings and a
// kubeconfig (no cluster is called) and checks the template's mapping.
func TestBuildProvidersRegistersKubernetes(t *testing.T) {
	t.Parallel()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	const kc = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
`
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("../../examples/kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Providers.Kubernetes.Kubeconfig = kubeconfig
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	providers, err := buildProviders(cfg, nil, nil, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatalf("buildProviders: %v", err)
	}
	if _, err := providers.Get("kubernetes"); err != nil {
		t.Errorf("kubernetes provider not registered: %v", err)
	}

	tmpl, err := kubernetesTemplate(cfg.Providers.Kubernetes)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(tmpl.Volumes), 2; got != want {
		t.Fatalf("volumes = %d, want %d", got, want)
	}
	if pvc := tmpl.Volumes[0].PersistentVolumeClaim; pvc == nil || pvc.ClaimName != "ado-agent-cache" {
		t.Errorf("volume 0 = %+v, want the claim ado-agent-cache", tmpl.Volumes[0])
	}
	if ed := tmpl.Volumes[1].EmptyDir; ed == nil || ed.SizeLimit == nil || ed.SizeLimit.String() != "20Gi" {
		t.Errorf("volume 1 = %+v, want an emptyDir of 20Gi", tmpl.Volumes[1])
	}
	if got, want := tmpl.VolumeMounts[1].MountPath, "/azp/_work"; got != want {
		t.Errorf("mount 1 = %q, want %q", got, want)
	}
	if got, want := tmpl.Resources.Limits.Memory().String(), "4Gi"; got != want {
		t.Errorf("memory limit = %s, want %s", got, want)
	}
	if got, want := len(tmpl.Tolerations), 1; got != want {
		t.Errorf("tolerations = %d, want %d", got, want)
	}
}
