package config

// The kubernetes provider's entries of the docs table (docs.go).
func init() {
	typeDocs["KubernetesProvider"] = "Runs each agent as its own Pod (restartPolicy Never) in one namespace. The cluster is reached in-cluster through the controller's service account unless kubeconfig or context is set. See docs/kubernetes.md."
	typeDocs["KubernetesSecretKey"] = "One key of a Kubernetes Secret in the agents' namespace."
	typeDocs["KubernetesSecretEnv"] = "An environment variable of the agent filled from a Secret's key (env valueFrom secretKeyRef)."
	typeDocs["KubernetesResources"] = "Requests and limits of the agent container, Kubernetes quantities by resource name (cpu, memory, ephemeral-storage, nvidia.com/gpu ...)."
	typeDocs["KubernetesToleration"] = "A toleration of the agent Pods, as in a Pod spec."
	typeDocs["KubernetesVolume"] = "A volume of the agent Pods and its mount in the agent container, e.g. a cache; exactly one source."
	typeDocs["KubernetesEmptyDir"] = "An emptyDir volume: scratch space that lives as long as the Pod."
	for k, m := range map[string]fieldMeta{
		"Providers.kubernetes": {doc: "The Kubernetes provider (a Pod per agent)."},

		"KubernetesProvider.kubeconfig":             {doc: "Kubeconfig file. Empty: in-cluster (the controller's service account) when running in a Pod, else $KUBECONFIG or ~/.kube/config."},
		"KubernetesProvider.context":                {doc: "Context of the kubeconfig; default its current context."},
		"KubernetesProvider.namespace":              {doc: "Namespace of the agent Pods; it must exist.", required: true, pattern: dnsLabelRE.String()},
		"KubernetesProvider.image":                  {doc: "The agent's container image. A pool's template replaces it.", required: true, nonEmpty: true},
		"KubernetesProvider.imagePullPolicy":        {doc: "Image pull policy of the agent container; default Kubernetes' (Always for :latest, else IfNotPresent).", enum: pullPolicies},
		"KubernetesProvider.imagePullSecrets":       {doc: "Secrets (type kubernetes.io/dockerconfigjson) used to pull the image."},
		"KubernetesProvider.serviceAccountName":     {doc: "Service account of the agent Pods. Without one no API token is mounted in them.", pattern: dnsSubdomainRE.String()},
		"KubernetesProvider.tokenSecret":            {doc: "The Secret holding the agents' registration token, read into AZP_TOKEN by the kubelet (valueFrom secretKeyRef): the token never appears in a Pod spec. organization.agentToken is not handed to these agents.", required: true},
		"KubernetesProvider.resources":              {doc: "Requests and limits of the agent container. A pool's resources.cpu and memory replace the requests (and raise a lower limit)."},
		"KubernetesProvider.nodeSelector":           {doc: "Node labels the agent Pods must run on, e.g. kubernetes.io/os: linux."},
		"KubernetesProvider.tolerations":            {doc: "Tolerations of the agent Pods, e.g. for a tainted agent node pool."},
		"KubernetesProvider.volumes":                {doc: "Volumes mounted in the agent container, e.g. a PersistentVolumeClaim or hostPath as a package cache."},
		"KubernetesProvider.env":                    {doc: "Plain environment variables added to every agent; never the token."},
		"KubernetesProvider.secretEnv":              {doc: "Environment variables filled from Secrets."},
		"KubernetesProvider.labels":                 {doc: "Labels added to every agent Pod (the adofleet.io/ labels are set by adofleet)."},
		"KubernetesProvider.annotations":            {doc: "Annotations added to every agent Pod."},
		"KubernetesProvider.priorityClassName":      {doc: "PriorityClass of the agent Pods."},
		"KubernetesProvider.terminationGracePeriod": {doc: "How long an agent has after SIGTERM before it is killed; default Kubernetes' 30s."},
		"KubernetesProvider.qps":                    {doc: "Sustained requests per second to the API server; the server's 429 answers are honoured on top.", def: DefaultKubernetesQPS},
		"KubernetesProvider.burst":                  {doc: "Request burst to the API server.", def: DefaultKubernetesBurst, minimum: intp(0)},
		"KubernetesProvider.callTimeout":            {doc: "Bound on each API call, client-go's retries included.", def: "30s"},
		"KubernetesProvider.unschedulableTimeout":   {doc: "How long a Pod may stay unschedulable (PodScheduled=False) before it is reported as a failed start and deleted; leave time for a cluster autoscaler to add a node.", def: "10m"},
		"KubernetesProvider.startFailureTimeout":    {doc: "How long a Pod's container may fail to be pulled or created (ErrImagePull, ImagePullBackOff, CreateContainerConfigError ...) before it is reported as a failed start and deleted. InvalidImageName fails at once.", def: "3m"},
		"KubernetesProvider.finishedRetention":      {doc: "How long an ended Pod (completed, crashed, evicted) is kept, for kubectl logs, before adofleet deletes it.", def: "10m"},

		"KubernetesSecretKey.name": {doc: "Name of the Secret.", required: true, pattern: dnsSubdomainRE.String()},
		"KubernetesSecretKey.key":  {doc: "Key in the Secret.", def: DefaultKubernetesTokenKey, pattern: secretKeyRE.String()},

		"KubernetesSecretEnv.name":       {doc: "Environment variable name.", required: true, pattern: envNameRE.String()},
		"KubernetesSecretEnv.secretName": {doc: "Name of the Secret.", required: true, pattern: dnsSubdomainRE.String()},
		"KubernetesSecretEnv.key":        {doc: "Key in the Secret.", required: true, pattern: secretKeyRE.String()},

		"KubernetesResources.requests": {doc: "Requested amounts, e.g. cpu: 500m, memory: 2Gi."},
		"KubernetesResources.limits":   {doc: "Limits, e.g. memory: 4Gi."},

		"KubernetesToleration.key":               {doc: "Taint key; empty with operator Exists tolerates every taint."},
		"KubernetesToleration.operator":          {doc: "Equal (default) or Exists.", enum: tolOperators},
		"KubernetesToleration.value":             {doc: "Taint value (operator Equal)."},
		"KubernetesToleration.effect":            {doc: "Taint effect; empty matches every effect.", enum: taintEffects},
		"KubernetesToleration.tolerationSeconds": {doc: "For effect NoExecute: how long the Pod stays bound after the taint appears.", minimum: intp(0)},

		"KubernetesVolume.name":                  {doc: "Volume name.", required: true, pattern: dnsLabelRE.String()},
		"KubernetesVolume.mountPath":             {doc: "Absolute path of the mount in the agent container.", required: true, pattern: "^/"},
		"KubernetesVolume.subPath":               {doc: "Sub-path of the volume to mount."},
		"KubernetesVolume.readOnly":              {doc: "Mount read-only.", def: false},
		"KubernetesVolume.emptyDir":              {doc: "An emptyDir volume."},
		"KubernetesVolume.persistentVolumeClaim": {doc: "Name of a PersistentVolumeClaim in the namespace (ReadWriteMany to share it between agents).", pattern: dnsSubdomainRE.String()},
		"KubernetesVolume.hostPath":              {doc: "Absolute path on the node.", pattern: "^/"},
		"KubernetesVolume.configMap":             {doc: "Name of a ConfigMap in the namespace.", pattern: dnsSubdomainRE.String()},
		"KubernetesVolume.secret":                {doc: "Name of a Secret in the namespace.", pattern: dnsSubdomainRE.String()},

		"KubernetesEmptyDir.medium":    {doc: `"" for the node's disk, or Memory for a tmpfs.`, enum: []string{"", "Memory"}},
		"KubernetesEmptyDir.sizeLimit": {doc: "Size limit, e.g. 10Gi.", pattern: quantityRE.String()},
	} {
		fieldDocs[k] = m
	}
}
