package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The chart deploy/helm/adofleet is linted and rendered with a real helm (make deps builds the
// pinned one into bin/tools), and the rendered objects are decoded into the Kubernetes API types
// with unknown fields refused, so a misspelt field fails here rather than on a cluster. The checks
// of those objects are in helm_checks_test.go.

const (
	releaseName      = "rel"
	releaseNamespace = "adofleet-system"
	// kubeVersion is passed explicitly: a helm built without its release ldflags templates for
	// Kubernetes 1.20, below the chart's kubeVersion.
	kubeVersion = "1.34.0"
)

func chartDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "deploy", "helm", "adofleet")
}

// helmBin finds helm: the pinned one make deps installs, then PATH. Without one the test fails
// under CI (.ci/run sets CI=true) and is skipped elsewhere.
func helmBin(t *testing.T) string {
	t.Helper()
	pinned := filepath.Join(repoRoot(t), "bin", "tools", "helm")
	if _, err := os.Stat(pinned); err == nil {
		return pinned
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	msg := "helm is not installed: run make deps (builds the pinned helm into bin/tools)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// runHelm runs helm with its config, cache and data directories in a temporary directory, so no
// repository or plugin of the developer's own helm takes part.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := helmBin(t)
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), errors.New(strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// object is one rendered manifest: its kind and name, and the document as JSON for decoding.
type object struct {
	Kind     string
	Name     string
	JSON     []byte
	Document map[string]any
}

// renderChart runs helm template with the extra arguments and splits the output into objects.
func renderChart(t *testing.T, extra ...string) []object {
	t.Helper()
	args := append([]string{"template", releaseName, chartDir(t), "--namespace", releaseNamespace,
		"--kube-version", kubeVersion}, extra...)
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
	}
	return splitManifests(t, out)
}

func splitManifests(t *testing.T, out string) []object {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(out))
	var objs []object
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, out)
		}
		if doc == nil {
			continue
		}
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("rendered document cannot be JSON: %v", err)
		}
		kind, _ := doc["kind"].(string)
		meta, _ := doc["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		objs = append(objs, object{Kind: kind, Name: name, JSON: data, Document: doc})
	}
	if len(objs) == 0 {
		t.Fatalf("helm template rendered nothing:\n%s", out)
	}
	return objs
}

// decodeStrict decodes o into v, refusing fields v's type does not have.
func decodeStrict(t *testing.T, o object, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(o.JSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s %s: %v", o.Kind, o.Name, err)
	}
}

func kinds(objs []object) map[string]int {
	out := map[string]int{}
	for _, o := range objs {
		out[o.Kind]++
	}
	return out
}

func TestHelmLint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"default values", nil},
		// helm lint has no --api-versions, so the ServiceMonitor is off here; the template
		// tests render it.
		{"full values", []string{"-f", filepath.Join(chartDir(t), "ci", "full-values.yaml"), "--set", "serviceMonitor.enabled=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"lint", "--strict", chartDir(t), "--kube-version", kubeVersion}, tc.args...)
			out, err := runHelm(t, args...)
			if err != nil {
				t.Fatalf("helm lint: %v\n%s", err, out)
			}
			// lint reports a template's fail() as INFO and still passes: treat it as a failure.
			for _, bad := range []string{"[ERROR]", "[WARNING]", "Fail:"} {
				if strings.Contains(out, bad) {
					t.Errorf("helm lint output has %q:\n%s", bad, out)
				}
			}
		})
	}
}
