{{/* Names and labels. */}}
{{- define "adofleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "adofleet.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "adofleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "adofleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "adofleet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "adofleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "adofleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "adofleet.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "adofleet.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
What the config asks of Kubernetes. Each returns "true" or "".
*/}}
{{- define "adofleet.leaderElection" -}}
{{- $le := dig "controller" "leaderElection" dict (.Values.config | default dict) -}}
{{- if $le.enabled -}}true{{- end -}}
{{- end -}}

{{- define "adofleet.leaseElection" -}}
{{- $le := dig "controller" "leaderElection" dict (.Values.config | default dict) -}}
{{- if and $le.enabled (eq (toString $le.backend) "kubernetes") -}}true{{- end -}}
{{- end -}}

{{/* The kubernetes provider running agents in this cluster (no kubeconfig of another one). */}}
{{- define "adofleet.inClusterProvider" -}}
{{- $k := dig "providers" "kubernetes" dict (.Values.config | default dict) -}}
{{- if and $k (not $k.kubeconfig) (not $k.context) -}}true{{- end -}}
{{- end -}}

{{- define "adofleet.agentsNamespace" -}}
{{- $k := dig "providers" "kubernetes" dict (.Values.config | default dict) -}}
{{- default .Release.Namespace $k.namespace -}}
{{- end -}}

{{- define "adofleet.sharedStore" -}}
{{- $s := dig "store" dict (.Values.config | default dict) -}}
{{- if or $s.postgres $s.dynamodb -}}true{{- end -}}
{{- end -}}

{{- define "adofleet.leaseName" -}}
{{- dig "controller" "leaderElection" "leaseName" "adofleet-controller" (.Values.config | default dict) -}}
{{- end -}}

{{/*
The config file: values.config plus what the chart decides (the listen address, the SQLite path on
the data volume, the agents' namespace).
*/}}
{{- define "adofleet.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- $web := get $cfg "web" | default dict -}}
{{- $_ := set $web "listen" (printf ":%d" (int .Values.containerPort)) -}}
{{- $_ = set $cfg "web" $web -}}
{{- if not (get $cfg "store") -}}
{{- $_ = set $cfg "store" (dict "sqlite" (dict "path" "/var/lib/adofleet/adofleet.db")) -}}
{{- end -}}
{{- $providers := get $cfg "providers" | default dict -}}
{{- $k := get $providers "kubernetes" -}}
{{- if and $k (not $k.namespace) -}}
{{- $_ = set $k "namespace" .Release.Namespace -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
The config fields that hold a secret reference (docs/config.schema.json; a test keeps this list in
step with it). "[]" walks every item of a list.
*/}}
{{- define "adofleet.secretPaths" -}}
organization.pat organization.bearerToken organization.agentToken checks.password checks.sharedSecret hooks.password hooks.sharedSecret web.password web.bearerToken store.postgres.url notify.routes[].url notify.routes[].signingSecret providers.aci.registryPassword
{{- end -}}

{{/* refCheck fails when the value at .segs under .v is set and is not a secret reference. */}}
{{- define "adofleet.refCheck" -}}
{{- if not .segs -}}
{{- if and .v (not (regexMatch "^(env|file|kms|kmsfile|secretsmanager|ssm|keyvault):.+$" (toString .v))) -}}
{{- fail (printf "config.%s holds a value that is not a secret reference (not shown). Put the secret in a Kubernetes Secret, list it under secretEnv (e.g. secretEnv.MY_SECRET: {secretName: adofleet, key: my-secret}) and write config.%s: env:MY_SECRET" .at .at) -}}
{{- end -}}
{{- else if kindIs "map" .v -}}
{{- $seg := first .segs -}}
{{- if hasSuffix "[]" $seg -}}
{{- $key := trimSuffix "[]" $seg -}}
{{- $items := get .v $key -}}
{{- if kindIs "slice" $items -}}
{{- range $i, $item := $items -}}
{{- include "adofleet.refCheck" (dict "v" $item "segs" (rest $.segs) "at" (printf "%s%s[%d]" $.prefix $key $i | trimPrefix ".") "prefix" (printf "%s%s[%d]." $.prefix $key $i)) -}}
{{- end -}}
{{- end -}}
{{- else if hasKey .v $seg -}}
{{- include "adofleet.refCheck" (dict "v" (get .v $seg) "segs" (rest .segs) "at" (printf "%s%s" .prefix $seg) "prefix" (printf "%s%s." .prefix $seg)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* validate fails the render on values that would deploy something broken or unsafe. */}}
{{- define "adofleet.validate" -}}
{{- $cfg := .Values.config | default dict -}}
{{- if not (kindIs "map" $cfg) -}}
{{- fail "config must be a mapping: the adofleet.yaml of docs/config.md" -}}
{{- end -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- if not (include "adofleet.leaderElection" .) -}}
{{- fail (printf "replicaCount is %d but config.controller.leaderElection.enabled is not true: every replica would run the controller and launch agents for the same pools. Turn leader election on (backend: kubernetes uses a Lease in the release namespace) or set replicaCount: 1" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if not (include "adofleet.sharedStore" .) -}}
{{- fail (printf "replicaCount is %d but the store is SQLite, private to each Pod: a new leader would not see its predecessor's records. Configure config.store.postgres or config.store.dynamodb (docs/ha.md), or set replicaCount: 1" (int .Values.replicaCount)) -}}
{{- end -}}
{{- end -}}
{{- if dig "web" "listen" "" $cfg -}}
{{- fail "config.web.listen is set by the chart (every interface, on containerPort): remove it, and set containerPort to change the port" -}}
{{- end -}}
{{- range $path := splitList " " (include "adofleet.secretPaths" .) -}}
{{- include "adofleet.refCheck" (dict "v" $cfg "segs" (splitList "." $path) "at" "" "prefix" "") -}}
{{- end -}}
{{- range $name, $ref := .Values.secretEnv -}}
{{- if not (and $ref.secretName $ref.key) -}}
{{- fail (printf "secretEnv.%s needs secretName and key (an existing Secret and the key holding the value)" $name) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.serviceMonitor.enabled (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1")) -}}
{{- fail "serviceMonitor.enabled needs the monitoring.coreos.com/v1 API (the Prometheus Operator's CRDs), which this cluster does not serve. Install the operator, or with helm template pass --api-versions monitoring.coreos.com/v1" -}}
{{- end -}}
{{- end -}}
