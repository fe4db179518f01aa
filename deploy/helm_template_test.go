package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
)

func fullValues(t *testing.T) []string {
	return []string{"-f", filepath.Join(chartDir(t), "ci", "full-values.yaml"), "--api-versions", "monitoring.coreos.com/v1"}
}

func TestHelmTemplateDefaults(t *testing.T) {
	t.Parallel()
	r := decodeRendered(t, renderChart(t))
	checkAll(t, r, "/readyz")
	want := map[string]int{"ConfigMap": 1, "Deployment": 1, "Role": 1, "RoleBinding": 1, "Service": 1, "ServiceAccount": 1}
	if diff := cmp.Diff(want, kinds(r.objs)); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	d := r.deployment.Spec
	if *d.Replicas != 1 || d.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %d strategy %s, want 1 and Recreate (never two controllers without an election)", *d.Replicas, d.Strategy.Type)
	}
	if got, want := r.cfg.Providers.Kubernetes.Namespace, releaseNamespace; got != want {
		t.Errorf("providers.kubernetes.namespace = %q, want the release namespace %q", got, want)
	}
	if r.cfg.Store.SQLite == nil || !strings.HasPrefix(r.cfg.Store.SQLite.Path, "/var/lib/adofleet/") {
		t.Errorf("store = %+v, want SQLite on the data volume", r.cfg.Store)
	}
	if _, ok := r.deployment.Spec.Template.Annotations["checksum/config"]; !ok {
		t.Error("no checksum/config annotation: a config change would not roll the Pod")
	}
}

func TestHelmTemplateFull(t *testing.T) {
	t.Parallel()
	r := decodeRendered(t, renderChart(t, fullValues(t)...))
	checkAll(t, r, "/healthz")
	want := map[string]int{"ConfigMap": 2, "Deployment": 1, "PodDisruptionBudget": 1, "Role": 2, "RoleBinding": 2,
		"Service": 1, "ServiceAccount": 1, "ServiceMonitor": 1}
	if diff := cmp.Diff(want, kinds(r.objs)); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	d := r.deployment.Spec
	if *d.Replicas != 2 || d.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType ||
		d.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("replicas %d strategy %+v, want 2 and a rolling update that keeps every replica", *d.Replicas, d.Strategy)
	}
	if img := r.container(t).Image; !regexp.MustCompile(`@sha256:[0-9a-f]{64}$`).MatchString(img) {
		t.Errorf("image %s, want the digest of image.digest", img)
	}
	dash, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "adofleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.dashboard == nil || r.dashboard.Data["adofleet.json"] != string(dash) || r.dashboard.Labels["grafana_dashboard"] != "1" {
		t.Error("grafanaDashboard.enabled: no ConfigMap labelled grafana_dashboard holding deploy/grafana/adofleet.json")
	}
	if r.pdb == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget %+v, want maxUnavailable 1", r.pdb)
	}

	// The ServiceMonitor scrapes /metrics on the Service's port, with the bearer token from a Secret.
	var sm struct {
		APIVersion string `json:"apiVersion"`
		Spec       struct {
			Selector  struct{ MatchLabels map[string]string } `json:"selector"`
			Endpoints []struct {
				Port              string
				Path              string
				BearerTokenSecret struct{ Name, Key string } `json:"bearerTokenSecret"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	data, _ := json.Marshal(r.monitor)
	if err := json.Unmarshal(data, &sm); err != nil {
		t.Fatal(err)
	}
	if sm.APIVersion != "monitoring.coreos.com/v1" || len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor %s", data)
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if r.service.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s; the Service's labels are %v", k, v, r.service.Labels)
		}
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != r.service.Spec.Ports[0].Name || ep.Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoint %s %s, want %s /metrics", ep.Port, ep.Path, r.service.Spec.Ports[0].Name)
	}
	if ep.BearerTokenSecret.Name == "" || ep.BearerTokenSecret.Key == "" {
		t.Error("ServiceMonitor has no bearerTokenSecret, but web.bearerToken protects /metrics")
	}
}

// An agents' cluster reached by kubeconfig and no Lease: no RBAC here and no API token mounted.
func TestHelmTemplateNoKubernetesAPI(t *testing.T) {
	t.Parallel()
	r := decodeRendered(t, renderChart(t, "--set", "config.providers.kubernetes.kubeconfig=/etc/adofleet-kube/config",
		"--set", "persistence.enabled=true",
		"--set-json", `extraVolumes=[{"name":"kube","secret":{"secretName":"agents-kubeconfig"}}]`,
		"--set-json", `extraVolumeMounts=[{"name":"kube","mountPath":"/etc/adofleet-kube","readOnly":true}]`))
	checkAll(t, r, "/readyz")
	if n := len(r.roles) + len(r.bindings); n != 0 {
		t.Errorf("%d RBAC objects, want none", n)
	}
	var mounted bool
	for _, m := range r.container(t).VolumeMounts {
		mounted = mounted || m.MountPath == filepath.Dir(r.cfg.Providers.Kubernetes.Kubeconfig)
	}
	if !mounted {
		t.Errorf("the kubeconfig's directory is not mounted: %+v", r.container(t).VolumeMounts)
	}
	if kinds(r.objs)["PersistentVolumeClaim"] != 1 {
		t.Error("persistence.enabled rendered no PersistentVolumeClaim")
	}
}

// TestHelmTemplateRefuses: values that would deploy something unsafe fail with a message naming
// the value to change, and a literal secret never appears in the output.
func TestHelmTemplateRefuses(t *testing.T) {
	t.Parallel()
	const canary = "canary-3f9c2a7e51d04b8b"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"replicas without election", []string{"--set", "replicaCount=2"}, "config.controller.leaderElection.enabled is not true"},
		{"replicas on sqlite", []string{"--set", "replicaCount=3", "--set", "config.controller.leaderElection.enabled=true"}, "config.store.postgres or config.store.dynamodb"},
		{"literal pat", []string{"--set", "config.organization.pat=" + canary}, "config.organization.pat holds a value that is not a secret reference"},
		{"literal webhook url", append(fullValues(t), "--set", "config.notify.routes[0].url=https://hooks.slack.com/services/"+canary), "config.notify.routes[0].url holds a value"},
		{"literal postgres url", append(fullValues(t), "--set", "config.store.postgres.url=postgres://u:"+canary+"@db/adofleet"), "config.store.postgres.url holds a value"},
		{"servicemonitor without the API", []string{"--set", "serviceMonitor.enabled=true"}, "needs the monitoring.coreos.com/v1 API"},
		{"listen set", []string{"--set", "config.web.listen=:9999"}, "config.web.listen is set by the chart"},
		{"secretEnv without key", []string{"--set", "secretEnv.X.secretName=s"}, "'/secretEnv/X': missing property 'key'"},
		{"secretEnv with a value", []string{"--set", "secretEnv.X.value=" + canary}, "additional properties"},
		{"root user", []string{"--set", "podSecurityContext.runAsNonRoot=false"}, "runAsNonRoot"},
		{"non-root check removed", []string{"--set", "podSecurityContext.runAsNonRoot=null"}, "missing property 'runAsNonRoot'"},
		{"writable root", []string{"--set", "securityContext.readOnlyRootFilesystem=null"}, "missing property 'readOnlyRootFilesystem'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"template", releaseName, chartDir(t), "--namespace", releaseNamespace, "--kube-version", kubeVersion}, tc.args...)
			out, err := runHelm(t, args...)
			if err == nil {
				t.Fatalf("helm template succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(out, canary) {
				t.Errorf("the secret value appears in helm's output:\n%s", out)
			}
		})
	}
}

// TestHelmSecretPathsMatchConfigSchema keeps the chart's list of secret fields (the ones it refuses
// literal values in) equal to the fields the config schema marks as secret references.
func TestHelmSecretPathsMatchConfigSchema(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "config.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema schemaNode
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	var want []string
	schema.secretPaths(schema.Defs, "", &want, 0)
	sort.Strings(want)

	tpl, err := os.ReadFile(filepath.Join(chartDir(t), "templates", "_helpers.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)define "adofleet.secretPaths" -}}\s*(.*?)\s*{{-`).FindSubmatch(tpl)
	if m == nil {
		t.Fatal("_helpers.tpl has no adofleet.secretPaths")
	}
	got := strings.Fields(string(m[1]))
	sort.Strings(got)
	if len(want) == 0 {
		t.Fatal("the config schema marks no secret reference; the walk is broken")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("secret fields (-config schema +chart):\n%s", diff)
	}
}

// schemaNode is the part of docs/config.schema.json the walk needs.
type schemaNode struct {
	Ref        string                 `json:"$ref"`
	Pattern    string                 `json:"pattern"`
	Properties map[string]*schemaNode `json:"properties"`
	Items      *schemaNode            `json:"items"`
	Defs       map[string]*schemaNode `json:"$defs"`
}

// secretRefPattern is how the schema marks a secret reference (env:, file:, ssm:, ...).
var secretRefPattern = regexp.MustCompile(`^\^\((\w+\|)*env(\|\w+)*\):`)

func (n *schemaNode) secretPaths(defs map[string]*schemaNode, at string, out *[]string, depth int) {
	if n == nil || depth > 12 {
		return
	}
	if n.Ref != "" {
		defs[strings.TrimPrefix(n.Ref, "#/$defs/")].secretPaths(defs, at, out, depth+1)
		return
	}
	if secretRefPattern.MatchString(n.Pattern) {
		*out = append(*out, at)
	}
	for name, p := range n.Properties {
		p.secretPaths(defs, strings.TrimPrefix(at+"."+name, "."), out, depth+1)
	}
	if n.Items != nil {
		n.Items.secretPaths(defs, at+"[]", out, depth+1)
	}
}

// TestHelmDashboardCopy: the chart packages a copy of the dashboard (a chart cannot read files
// outside its directory); it must stay the same as deploy/grafana/adofleet.json.
func TestHelmDashboardCopy(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "adofleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(chartDir(t), "dashboards", "adofleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("deploy/helm/adofleet/dashboards/adofleet.json differs from deploy/grafana/adofleet.json; copy it: cp deploy/grafana/adofleet.json deploy/helm/adofleet/dashboards/")
	}
}

// TestHelmNotes renders NOTES.txt (helm template leaves it out) by wrapping it in a ConfigMap in a
// copy of the chart: it renders, and it tells how to create each Secret once, with all its keys.
func TestHelmNotes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "adofleet")
	if err := os.CopyFS(dir, os.DirFS(chartDir(t))); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "templates", "NOTES.txt")
	text, err := os.ReadFile(notes)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := "{{- define \"notes\" -}}\n" + string(text) + "\n{{- end -}}\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: |\n    {{- include \"notes\" . | nindent 4 }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "notes.yaml"), []byte(wrapped), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(notes); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"defaults", nil, []string{
			"create secret generic adofleet --from-literal=ado-pat=...\n",
			"-n adofleet-system create secret generic ado-agent-token --from-literal=token=...",
			"WARNING: config.organization.url is still the chart's placeholder",
		}},
		{"full", []string{"-f", filepath.Join(chartDir(t), "ci", "full-values.yaml"), "--set", "serviceMonitor.enabled=false"}, []string{
			"create secret generic adofleet --from-literal=ado-pat=... --from-literal=check-password=... --from-literal=hooks-secret=... --from-literal=slack-webhook-url=...\n",
			"-n ado-agents create secret generic ado-agent-token --from-literal=token=...",
			"-n ado-agents get pods -l adofleet.io/controller=contoso-k8s",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"template", releaseName, dir, "--namespace", releaseNamespace, "--kube-version", kubeVersion,
				"--show-only", "templates/notes.yaml"}, tc.args...)
			out, err := runHelm(t, args...)
			if err != nil {
				t.Fatalf("NOTES.txt does not render: %v", err)
			}
			var cm struct{ Data map[string]string }
			if err := yaml.Unmarshal([]byte(out), &cm); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(cm.Data["notes"], w) {
					t.Errorf("NOTES lack %q:\n%s", w, cm.Data["notes"])
				}
			}
			if tc.name == "full" && strings.Contains(cm.Data["notes"], "WARNING") {
				t.Errorf("NOTES warn about the placeholder URL with a real one:\n%s", cm.Data["notes"])
			}
		})
	}
}
