package deploy_test

import (
	"net"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/adofleet/adofleet/internal/config"
)

// rendered is one helm template output decoded into the API types.
type rendered struct {
	objs        []object
	deployment  appsv1.Deployment
	configMap   corev1.ConfigMap
	dashboard   *corev1.ConfigMap // grafanaDashboard.enabled
	service     corev1.Service
	sa          corev1.ServiceAccount
	roles       []rbacv1.Role
	bindings    []rbacv1.RoleBinding
	pdb         *policyv1.PodDisruptionBudget
	monitor     map[string]any // monitoring.coreos.com/v1 has no Go types in go.mod
	cfg         *config.Config
	cfgText     string
	unknownKind []string
}

func decodeRendered(t *testing.T, objs []object) *rendered {
	t.Helper()
	r := &rendered{objs: objs}
	for _, o := range objs {
		switch o.Kind {
		case "Deployment":
			decodeStrict(t, o, &r.deployment)
		case "ConfigMap":
			if strings.HasSuffix(o.Name, "-dashboard") {
				r.dashboard = &corev1.ConfigMap{}
				decodeStrict(t, o, r.dashboard)
				continue
			}
			decodeStrict(t, o, &r.configMap)
		case "Service":
			decodeStrict(t, o, &r.service)
		case "ServiceAccount":
			decodeStrict(t, o, &r.sa)
		case "Role":
			var role rbacv1.Role
			decodeStrict(t, o, &role)
			r.roles = append(r.roles, role)
		case "RoleBinding":
			var b rbacv1.RoleBinding
			decodeStrict(t, o, &b)
			r.bindings = append(r.bindings, b)
		case "PodDisruptionBudget":
			r.pdb = &policyv1.PodDisruptionBudget{}
			decodeStrict(t, o, r.pdb)
		case "PersistentVolumeClaim":
			decodeStrict(t, o, &corev1.PersistentVolumeClaim{})
		case "ServiceMonitor":
			r.monitor = o.Document
		default:
			r.unknownKind = append(r.unknownKind, o.Kind)
		}
	}
	if len(r.unknownKind) > 0 {
		t.Errorf("rendered kinds %v the chart should not have (no Secret, nothing cluster-wide)", r.unknownKind)
	}
	r.cfgText = r.configMap.Data["adofleet.yaml"]
	cfg, err := config.Parse("configmap/adofleet.yaml", []byte(r.cfgText))
	if err != nil {
		t.Fatalf("the ConfigMap's adofleet.yaml does not validate:\n%v\n%s", err, r.cfgText)
	}
	r.cfg = cfg
	return r
}

func (r *rendered) container(t *testing.T) corev1.Container {
	t.Helper()
	cs := r.deployment.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return cs[0]
}

// checkSecurity: non-root, read-only root, no privilege escalation, every capability dropped.
func checkSecurity(t *testing.T, r *rendered) {
	t.Helper()
	pod := r.deployment.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Error("pod securityContext.runAsUser is unset or 0, want the image's numeric non-root user")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod seccompProfile is not RuntimeDefault")
	}
	c := r.container(t)
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("readOnlyRootFilesystem is not true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation is not false")
	case sc.Privileged != nil && *sc.Privileged:
		t.Error("container is privileged")
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
		t.Errorf("capabilities = %+v, want drop [ALL] and no add", sc.Capabilities)
	}
}

// checkContainer: probes on the serve port, resources, writable volumes where adofleet writes,
// and the config file the args name mounted from the ConfigMap.
func checkContainer(t *testing.T, r *rendered, wantReadiness string) {
	t.Helper()
	c := r.container(t)
	_, portText, err := net.SplitHostPort(r.cfg.Web.Listen)
	if err != nil {
		t.Fatalf("web.listen %q: %v", r.cfg.Web.Listen, err)
	}
	port, _ := strconv.Atoi(portText)
	var named string
	for _, p := range c.Ports {
		if int(p.ContainerPort) == port {
			named = p.Name
		}
	}
	if named == "" {
		t.Fatalf("no container port %d (web.listen %s); ports %+v", port, r.cfg.Web.Listen, c.Ports)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		want := "/healthz"
		if name == "readiness" {
			want = wantReadiness
		}
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe is not an HTTP probe", name)
			continue
		}
		if p.HTTPGet.Path != want || p.HTTPGet.Port.String() != named {
			t.Errorf("%s probe GET %s on %s, want %s on %s", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), want, named)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v, want cpu and memory requests and a memory limit", c.Resources)
	}

	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range r.deployment.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	writable := []string{"/tmp"}
	if s := r.cfg.Store.SQLite; s != nil {
		writable = append(writable, path.Dir(s.Path))
	}
	for _, dir := range writable {
		m, ok := mounts[dir]
		if !ok || m.ReadOnly {
			t.Errorf("%s is not a writable mount (the root file system is read-only); mounts %v", dir, c.VolumeMounts)
			continue
		}
		if v := volumes[m.Name]; v.EmptyDir == nil && v.PersistentVolumeClaim == nil {
			t.Errorf("volume %s at %s is neither an emptyDir nor a claim", m.Name, dir)
		}
	}
	i := slices.Index(c.Args, "-c")
	if len(c.Args) == 0 || c.Args[0] != "serve" || i < 0 || i+1 >= len(c.Args) {
		t.Fatalf("args %v, want serve -c FILE", c.Args)
	}
	file := c.Args[i+1]
	m, ok := mounts[filepath.Dir(file)]
	if !ok || !m.ReadOnly || volumes[m.Name].ConfigMap == nil || volumes[m.Name].ConfigMap.Name != r.configMap.Name {
		t.Errorf("%s is not read from the ConfigMap %s mounted read-only", file, r.configMap.Name)
	}
	if _, ok := r.configMap.Data[filepath.Base(file)]; !ok {
		t.Errorf("the ConfigMap has no key %s", filepath.Base(file))
	}
}

var envRef = regexp.MustCompile(`\benv:([A-Za-z_][A-Za-z0-9_]*)`)

// checkSecrets: every env: reference of the config is a container variable filled from a Secret,
// and no variable with a secret's name carries a literal value.
func checkSecrets(t *testing.T, r *rendered) {
	t.Helper()
	env := map[string]corev1.EnvVar{}
	for _, e := range r.container(t).Env {
		env[e.Name] = e
		if secretName.MatchString(e.Name) && e.Value != "" {
			t.Errorf("env %s has a literal value; secrets come from secretKeyRef", e.Name)
		}
	}
	refs := envRef.FindAllStringSubmatch(r.cfgText, -1)
	if len(refs) == 0 {
		t.Fatal("the config holds no env: reference; want the PAT at least")
	}
	for _, m := range refs {
		e, ok := env[m[1]]
		if !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("config references env:%s, but the container's %s is not from a Secret (%+v)", m[1], m[1], e)
		}
	}
}

// allowedRules is everything the controller may do, from the calls the code makes
// (internal/provider/kubernetes, internal/leader/kubelease).
var allowedRules = map[string][]string{
	"/pods":                      {"create", "delete", "get", "list"},
	"coordination.k8s.io/leases": {"create", "get", "update"},
}

// checkRBAC: namespaced Roles only, least privilege, each bound to the chart's service account,
// and exactly the permissions the config needs.
func checkRBAC(t *testing.T, r *rendered) {
	t.Helper()
	got := map[string][]string{} // namespace + " " + group/resource -> verbs
	for _, role := range r.roles {
		for _, rule := range role.Rules {
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					key := g + "/" + res
					for _, v := range rule.Verbs {
						if !slices.Contains(allowedRules[key], v) {
							t.Errorf("Role %s/%s grants %s on %s; allowed: %v", role.Namespace, role.Name, v, key, allowedRules[key])
						}
						// A Lease is read and renewed by its name; create cannot be limited so.
						if key == "coordination.k8s.io/leases" && v != "create" &&
							!cmp.Equal(rule.ResourceNames, []string{r.cfg.Controller.LeaderElection.LeaseName}) {
							t.Errorf("Role %s grants %s on leases %v, want only %q", role.Name, v, rule.ResourceNames, r.cfg.Controller.LeaderElection.LeaseName)
						}
						got[role.Namespace+" "+key] = append(got[role.Namespace+" "+key], v)
					}
				}
			}
		}
		bound := false
		for _, b := range r.bindings {
			if b.Namespace == role.Namespace && b.RoleRef.Kind == "Role" && b.RoleRef.Name == role.Name {
				want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: r.deployment.Spec.Template.Spec.ServiceAccountName, Namespace: releaseNamespace}}
				if diff := cmp.Diff(want, b.Subjects); diff != "" {
					t.Errorf("RoleBinding %s subjects (-want +got):\n%s", b.Name, diff)
				}
				bound = true
			}
		}
		if !bound {
			t.Errorf("Role %s/%s is bound to nothing", role.Namespace, role.Name)
		}
	}
	want := map[string][]string{}
	if k := r.cfg.Providers.Kubernetes; k != nil && k.Kubeconfig == "" && k.Context == "" {
		want[k.Namespace+" /pods"] = allowedRules["/pods"]
	}
	if le := r.cfg.Controller.LeaderElection; le.Elects() && le.Backend == config.LeaderBackendKubernetes {
		want[releaseNamespace+" coordination.k8s.io/leases"] = allowedRules["coordination.k8s.io/leases"]
	}
	for k := range got {
		sort.Strings(got[k])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RBAC by namespace and resource (-want +got):\n%s", diff)
	}
	automount := r.deployment.Spec.Template.Spec.AutomountServiceAccountToken
	if wantToken := len(want) > 0; automount == nil || *automount != wantToken {
		t.Errorf("automountServiceAccountToken = %v, want %v (the API token only where the API is used)", automount, wantToken)
	}
}

// checkService: the Service selects the Pods and targets the serve port.
func checkService(t *testing.T, r *rendered) {
	t.Helper()
	podLabels := r.deployment.Spec.Template.Labels
	for k, v := range r.service.Spec.Selector {
		if podLabels[k] != v {
			t.Errorf("Service selector %s=%s does not match the Pod labels %v", k, v, podLabels)
		}
	}
	if len(r.service.Spec.Ports) != 1 || r.service.Spec.Ports[0].TargetPort.String() != r.container(t).Ports[0].Name {
		t.Errorf("Service ports %+v, want one targeting the container's %s", r.service.Spec.Ports, r.container(t).Ports[0].Name)
	}
}

func checkAll(t *testing.T, r *rendered, wantReadiness string) {
	t.Helper()
	checkSecurity(t, r)
	checkContainer(t, r, wantReadiness)
	checkSecrets(t, r)
	checkRBAC(t, r)
	checkService(t, r)
}
