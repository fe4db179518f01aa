package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// KubernetesProvider runs each agent as its own Pod in one namespace. It mirrors
// kubernetes.Options; cmd/adofleet maps one to the other. The cluster is reached in-cluster (the
// controller's service account) unless kubeconfig or context is set.
type KubernetesProvider struct {
	// Kubeconfig file; "" means in-cluster, else $KUBECONFIG or ~/.kube/config.
	Kubeconfig string `yaml:"kubeconfig,omitempty" json:"kubeconfig,omitempty"`
	// Context of the kubeconfig ("" = its current context).
	Context string `yaml:"context,omitempty" json:"context,omitempty"`
	// Namespace of the agent Pods.
	Namespace string `yaml:"namespace" json:"namespace"`
	// Image of the agent container; a pool's template replaces it.
	Image            string   `yaml:"image" json:"image"`
	ImagePullPolicy  string   `yaml:"imagePullPolicy,omitempty" json:"imagePullPolicy,omitempty"`
	ImagePullSecrets []string `yaml:"imagePullSecrets,omitempty" json:"imagePullSecrets,omitempty"`
	// ServiceAccountName of the Pods; without one no API token is mounted.
	ServiceAccountName string `yaml:"serviceAccountName,omitempty" json:"serviceAccountName,omitempty"`
	// TokenSecret holds the agents' registration token (AZP_TOKEN).
	TokenSecret KubernetesSecretKey `yaml:"tokenSecret" json:"tokenSecret"`
	// Resources of the agent container (Kubernetes quantities by resource name).
	Resources    KubernetesResources    `yaml:"resources,omitempty" json:"resources,omitempty"`
	NodeSelector map[string]string      `yaml:"nodeSelector,omitempty" json:"nodeSelector,omitempty"`
	Tolerations  []KubernetesToleration `yaml:"tolerations,omitempty" json:"tolerations,omitempty"`
	// Volumes mounted in the agent container (caches).
	Volumes []KubernetesVolume `yaml:"volumes,omitempty" json:"volumes,omitempty"`
	// Env adds plain environment variables; SecretEnv fills others from Secrets.
	Env               map[string]string     `yaml:"env,omitempty" json:"env,omitempty"`
	SecretEnv         []KubernetesSecretEnv `yaml:"secretEnv,omitempty" json:"secretEnv,omitempty"`
	Labels            map[string]string     `yaml:"labels,omitempty" json:"labels,omitempty"`
	Annotations       map[string]string     `yaml:"annotations,omitempty" json:"annotations,omitempty"`
	PriorityClassName string                `yaml:"priorityClassName,omitempty" json:"priorityClassName,omitempty"`
	// TerminationGracePeriod after SIGTERM (default Kubernetes' 30s).
	TerminationGracePeriod Duration `yaml:"terminationGracePeriod,omitempty" json:"terminationGracePeriod,omitempty"`
	// QPS and Burst bound the controller's request rate to the API server.
	QPS   float64 `yaml:"qps,omitempty" json:"qps,omitempty"`
	Burst int     `yaml:"burst,omitempty" json:"burst,omitempty"`
	// CallTimeout bounds each API call, retries included.
	CallTimeout Duration `yaml:"callTimeout,omitempty" json:"callTimeout,omitempty"`
	// UnschedulableTimeout and StartFailureTimeout: how long a Pod may stay unschedulable, or
	// unable to pull or create its container, before it counts as a failed start.
	UnschedulableTimeout Duration `yaml:"unschedulableTimeout,omitempty" json:"unschedulableTimeout,omitempty"`
	StartFailureTimeout  Duration `yaml:"startFailureTimeout,omitempty" json:"startFailureTimeout,omitempty"`
	// FinishedRetention: how long an ended Pod is kept (for kubectl logs) before it is deleted.
	FinishedRetention Duration `yaml:"finishedRetention,omitempty" json:"finishedRetention,omitempty"`
}

// KubernetesSecretKey is one key of a Secret in the Pods' namespace.
type KubernetesSecretKey struct {
	Name string `yaml:"name" json:"name"`
	Key  string `yaml:"key,omitempty" json:"key,omitempty"`
}

// KubernetesSecretEnv fills the variable Name from a Secret's key.
type KubernetesSecretEnv struct {
	Name       string `yaml:"name" json:"name"`
	SecretName string `yaml:"secretName" json:"secretName"`
	Key        string `yaml:"key" json:"key"`
}

// KubernetesResources are requests and limits by resource name (cpu, memory, ephemeral-storage,
// nvidia.com/gpu ...).
type KubernetesResources struct {
	Requests map[string]string `yaml:"requests,omitempty" json:"requests,omitempty"`
	Limits   map[string]string `yaml:"limits,omitempty" json:"limits,omitempty"`
}

// KubernetesToleration is a Pod toleration.
type KubernetesToleration struct {
	Key               string `yaml:"key,omitempty" json:"key,omitempty"`
	Operator          string `yaml:"operator,omitempty" json:"operator,omitempty"`
	Value             string `yaml:"value,omitempty" json:"value,omitempty"`
	Effect            string `yaml:"effect,omitempty" json:"effect,omitempty"`
	TolerationSeconds *int   `yaml:"tolerationSeconds,omitempty" json:"tolerationSeconds,omitempty"`
}

// KubernetesVolume is a volume and its mount in the agent container; exactly one source.
type KubernetesVolume struct {
	Name      string `yaml:"name" json:"name"`
	MountPath string `yaml:"mountPath" json:"mountPath"`
	SubPath   string `yaml:"subPath,omitempty" json:"subPath,omitempty"`
	ReadOnly  bool   `yaml:"readOnly,omitempty" json:"readOnly,omitempty"`
	// EmptyDir is a scratch directory that lives as long as the Pod.
	EmptyDir *KubernetesEmptyDir `yaml:"emptyDir,omitempty" json:"emptyDir,omitempty"`
	// PersistentVolumeClaim, HostPath, ConfigMap and Secret name the source.
	PersistentVolumeClaim string `yaml:"persistentVolumeClaim,omitempty" json:"persistentVolumeClaim,omitempty"`
	HostPath              string `yaml:"hostPath,omitempty" json:"hostPath,omitempty"`
	ConfigMap             string `yaml:"configMap,omitempty" json:"configMap,omitempty"`
	Secret                string `yaml:"secret,omitempty" json:"secret,omitempty"`
}

// KubernetesEmptyDir configures an emptyDir volume.
type KubernetesEmptyDir struct {
	Medium    string `yaml:"medium,omitempty" json:"medium,omitempty"`
	SizeLimit string `yaml:"sizeLimit,omitempty" json:"sizeLimit,omitempty"`
}

// Defaults of the kubernetes provider.
const (
	DefaultKubernetesTokenKey             = "token"
	DefaultKubernetesQPS                  = 20.0
	DefaultKubernetesBurst                = 40
	DefaultKubernetesCallTimeout          = 30 * time.Second
	DefaultKubernetesUnschedulableTimeout = 10 * time.Minute
	DefaultKubernetesStartFailureTimeout  = 3 * time.Minute
	DefaultKubernetesFinishedRetention    = 10 * time.Minute
)

var (
	// dnsLabelRE is a namespace name (RFC 1123 label); dnsSubdomainRE a Secret, PVC or service
	// account name.
	dnsLabelRE     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	dnsSubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
	// quantityRE is a Kubernetes resource quantity such as 500m, 2Gi or 1.5.
	quantityRE    = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$`)
	envNameRE     = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)
	secretKeyRE   = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	pullPolicies  = []string{"Always", "IfNotPresent", "Never"}
	tolOperators  = []string{"Equal", "Exists"}
	taintEffects  = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	emptyDirMedia = []string{"Memory"}
)

func (k *KubernetesProvider) setDefaults() {
	if k == nil {
		return
	}
	setDefault(&k.TokenSecret.Key, DefaultKubernetesTokenKey)
	setDefault(&k.QPS, DefaultKubernetesQPS)
	setDefault(&k.Burst, DefaultKubernetesBurst)
	setDefault(&k.CallTimeout, Duration(DefaultKubernetesCallTimeout))
	setDefault(&k.UnschedulableTimeout, Duration(DefaultKubernetesUnschedulableTimeout))
	setDefault(&k.StartFailureTimeout, Duration(DefaultKubernetesStartFailureTimeout))
	setDefault(&k.FinishedRetention, Duration(DefaultKubernetesFinishedRetention))
}

// Validate returns one message per problem, each prefixed with the field's path under path.
func (k *KubernetesProvider) Validate(path string) []string {
	var msgs []string
	k.check(func(field, msg string) { msgs = append(msgs, path+"."+field+": "+msg) })
	return msgs
}

func (k *KubernetesProvider) check(report func(field, msg string)) {
	add := func(field, format string, args ...any) { report(field, fmt.Sprintf(format, args...)) }
	switch {
	case k.Namespace == "":
		add("namespace", "required: the namespace the agent pods run in")
	case !dnsLabelRE.MatchString(k.Namespace):
		add("namespace", "%q is not a namespace name (lowercase letters, digits and '-', at most 63)", k.Namespace)
	}
	if k.Image == "" {
		add("image", "required: the agent's container image, e.g. registry.example/ado-agent:1")
	}
	if k.ImagePullPolicy != "" && !slices.Contains(pullPolicies, k.ImagePullPolicy) {
		add("imagePullPolicy", "must be one of %s; got %q", strings.Join(pullPolicies, ", "), k.ImagePullPolicy)
	}
	for i, s := range k.ImagePullSecrets {
		checkName(add, fmt.Sprintf("imagePullSecrets[%d]", i), s)
	}
	if k.ServiceAccountName != "" {
		checkName(add, "serviceAccountName", k.ServiceAccountName)
	}
	if k.TokenSecret.Name == "" {
		add("tokenSecret.name", "required: the Secret holding the agents' registration token (the token never goes into the pod spec)")
	} else {
		checkName(add, "tokenSecret.name", k.TokenSecret.Name)
	}
	if !secretKeyRE.MatchString(k.TokenSecret.Key) {
		add("tokenSecret.key", "%q is not a Secret key (letters, digits, '-', '_', '.')", k.TokenSecret.Key)
	}
	k.checkResources(add)
	for i, t := range k.Tolerations {
		k.checkToleration(add, fmt.Sprintf("tolerations[%d]", i), t)
	}
	k.checkVolumes(add)
	k.checkEnv(add)
	if k.QPS < 0 {
		add("qps", "must not be negative")
	}
	if k.Burst < 0 {
		add("burst", "must not be negative")
	}
	for _, d := range []struct {
		field string
		d     Duration
	}{{"terminationGracePeriod", k.TerminationGracePeriod}, {"callTimeout", k.CallTimeout}, {"unschedulableTimeout", k.UnschedulableTimeout},
		{"startFailureTimeout", k.StartFailureTimeout}, {"finishedRetention", k.FinishedRetention}} {
		if d.d < 0 {
			add(d.field, "must be a positive duration, got %q", d.d.String())
		}
	}
}

func checkName(add func(field, format string, args ...any), field, name string) {
	if !dnsSubdomainRE.MatchString(name) {
		add(field, "%q is not a Kubernetes object name (lowercase letters, digits, '-' and '.')", name)
	}
}

func (k *KubernetesProvider) checkResources(add func(field, format string, args ...any)) {
	for _, part := range []struct {
		field string
		m     map[string]string
	}{{"resources.requests", k.Resources.Requests}, {"resources.limits", k.Resources.Limits}} {
		for _, name := range slices.Sorted(maps.Keys(part.m)) {
			if !quantityRE.MatchString(part.m[name]) {
				add(part.field+"."+name, "%q is not a Kubernetes quantity such as 500m, 2Gi or 1", part.m[name])
			}
		}
	}
}

func (k *KubernetesProvider) checkToleration(add func(field, format string, args ...any), at string, t KubernetesToleration) {
	if t.Operator != "" && !slices.Contains(tolOperators, t.Operator) {
		add(at+".operator", "must be Equal or Exists; got %q", t.Operator)
	}
	if t.Operator == "Exists" && t.Value != "" {
		add(at+".value", "must be empty with operator Exists")
	}
	if t.Key == "" && t.Operator != "Exists" {
		add(at+".key", "required unless operator is Exists (which then tolerates every taint)")
	}
	if t.Effect != "" && !slices.Contains(taintEffects, t.Effect) {
		add(at+".effect", "must be one of %s; got %q", strings.Join(taintEffects, ", "), t.Effect)
	}
	if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
		add(at+".tolerationSeconds", "only applies to effect NoExecute")
	}
}

func (k *KubernetesProvider) checkVolumes(add func(field, format string, args ...any)) {
	seen := map[string]bool{}
	for i, vol := range k.Volumes {
		at := fmt.Sprintf("volumes[%d]", i)
		switch {
		case !dnsLabelRE.MatchString(vol.Name):
			add(at+".name", "%q is not a volume name (lowercase letters, digits and '-', at most 63)", vol.Name)
		case seen[vol.Name]:
			add(at+".name", "duplicate volume name %q", vol.Name)
		}
		seen[vol.Name] = true
		if !strings.HasPrefix(vol.MountPath, "/") {
			add(at+".mountPath", "must be an absolute path, got %q", vol.MountPath)
		}
		sources := 0
		for _, set := range []bool{vol.EmptyDir != nil, vol.PersistentVolumeClaim != "", vol.HostPath != "", vol.ConfigMap != "", vol.Secret != ""} {
			if set {
				sources++
			}
		}
		if sources != 1 {
			add(at, "set exactly one of emptyDir, persistentVolumeClaim, hostPath, configMap or secret; got %d", sources)
		}
		if vol.HostPath != "" && !strings.HasPrefix(vol.HostPath, "/") {
			add(at+".hostPath", "must be an absolute path, got %q", vol.HostPath)
		}
		if e := vol.EmptyDir; e != nil {
			if e.Medium != "" && !slices.Contains(emptyDirMedia, e.Medium) {
				add(at+".emptyDir.medium", `must be "" (the node's disk) or Memory; got %q`, e.Medium)
			}
			if e.SizeLimit != "" && !quantityRE.MatchString(e.SizeLimit) {
				add(at+".emptyDir.sizeLimit", "%q is not a Kubernetes quantity such as 10Gi", e.SizeLimit)
			}
		}
	}
}

func (k *KubernetesProvider) checkEnv(add func(field, format string, args ...any)) {
	if _, ok := k.Env["AZP_TOKEN"]; ok {
		add("env.AZP_TOKEN", "the registration token must not be a plain variable; it comes from tokenSecret")
	}
	for i, e := range k.SecretEnv {
		at := fmt.Sprintf("secretEnv[%d]", i)
		if !envNameRE.MatchString(e.Name) {
			add(at+".name", "%q is not an environment variable name", e.Name)
		}
		if e.Name == "AZP_TOKEN" {
			add(at+".name", "AZP_TOKEN comes from tokenSecret")
		}
		checkName(add, at+".secretName", e.SecretName)
		if !secretKeyRE.MatchString(e.Key) {
			add(at+".key", "%q is not a Secret key (letters, digits, '-', '_', '.')", e.Key)
		}
	}
}

// checkKubernetesSize checks a pool's size in Kubernetes quantities (the container's cpu and
// memory requests).
func checkKubernetesSize(cpu, memory string, report func(field, msg string)) {
	for _, f := range []struct{ field, value, eg string }{{"cpu", cpu, "500m or 2"}, {"memory", memory, "2Gi"}} {
		if f.value != "" && (!quantityRE.MatchString(f.value) || strings.Trim(f.value, "0.") == "") {
			report(f.field, fmt.Sprintf("%q is not a positive Kubernetes quantity such as %s", f.value, f.eg))
		}
	}
}
