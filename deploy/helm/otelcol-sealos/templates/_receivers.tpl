{{/*
The receiver catalog: the one place that says, per receiver, where it runs (deployment: cluster-wide,
behind its own lease; daemonset: on every node) and which API access it needs. Adding a receiver is
one entry here plus its `receivers.<name>` block in values.yaml. Rules may depend on the receiver's own
config (`$r`). Secrets referenced by any `*secret*: {namespace, name}` key in a receiver's config get
secrets get/list/watch in that namespace automatically (see otelcol-sealos.secretNamespaces).
  clusterRules:   ClusterRole rules
  namespaceRules: [{namespace, rules}] as Roles
*/}}
{{- define "otelcol-sealos.catalog" -}}
{{- $rs := .Values.receivers -}}
node:
  mode: deployment
  clusterRules:
    - {apiGroups: [""], resources: [nodes], verbs: [get, list, watch]}
    {{- if dig "metrics" "node.kubelet_metrics_available" "enabled" false ($rs.node | default dict) }}
    - {apiGroups: [metrics.k8s.io], resources: [nodes], verbs: [list]}
    {{- end }}
domain:
  mode: deployment
database:
  mode: deployment
  {{- $r := $rs.database | default dict }}
  {{- $rules := list (dict "apiGroups" (list "") "resources" (list "secrets") "verbs" (list "get" "list" "watch")) }}
  {{- if $r.preflight }}
  {{- $rules = append $rules (dict "apiGroups" (list "") "resources" (list "services") "verbs" (list "get" "list" "watch")) }}
  {{- $rules = append $rules (dict "apiGroups" (list "discovery.k8s.io") "resources" (list "endpointslices") "verbs" (list "get" "list" "watch")) }}
  {{- end }}
  {{- if eq (dig "discover" true $r) false }}
  {{- else if $r.namespaces }}
  namespaceRules:
    {{- range $r.namespaces }}
    - {namespace: {{ . | quote }}, rules: {{ toJson $rules }}}
    {{- end }}
  {{- else }}
  clusterRules: {{ toJson $rules }}
  {{- end }}
userbalance:
  mode: deployment
crds:
  mode: deployment
  {{- $r := $rs.crds | default dict }}
  clusterRules:
    {{- range $r.crds }}
    {{- if not .namespaces }}
    - {apiGroups: [{{ .gvr.group | default "" | quote }}], resources: [{{ .gvr.resource | quote }}], verbs: [get, list, watch]}
    {{- end }}
    {{- end }}
  namespaceRules:
    {{- range $r.crds }}
    {{- $gvr := .gvr }}
    {{- range .namespaces }}
    - {namespace: {{ . | quote }}, rules: [{apiGroups: [{{ $gvr.group | default "" | quote }}], resources: [{{ $gvr.resource | quote }}], verbs: [get, list, watch]}]}
    {{- end }}
    {{- end }}
imagepull:
  mode: deployment
  clusterRules:
    - {apiGroups: [""], resources: [pods], verbs: [list, watch]}
    - {apiGroups: ["", events.k8s.io], resources: [events], verbs: [list, watch]}
cloudbalance:
  mode: deployment
registryproxy:
  mode: deployment
cockroachlicense:
  mode: deployment
lvm:
  mode: daemonset
  privileged: true
zombie:
  mode: daemonset
  hostPID: true
  clusterRules:
    - {apiGroups: [""], resources: [pods], verbs: [list, watch]}
{{- end -}}

{{/* The catalog as a dict. */}}
{{- define "otelcol-sealos.catalogDict" -}}
{{- include "otelcol-sealos.catalog" . | fromYaml | toJson -}}
{{- end -}}

{{/* "true" when receiver .name is enabled: enabledCollectors wins when set. */}}
{{- define "otelcol-sealos.enabled" -}}
{{- $v := .root.Values -}}
{{- if $v.enabledCollectors -}}
{{- if has .name $v.enabledCollectors }}true{{ end -}}
{{- else if (get ($v.receivers | default dict) .name | default dict).enabled -}}
true
{{- end -}}
{{- end -}}

{{/* JSON list of the enabled receivers running in .mode, sorted. */}}
{{- define "otelcol-sealos.receiversIn" -}}
{{- $root := .root -}}{{- $mode := .mode -}}
{{- $out := list -}}
{{- range $name, $spec := (include "otelcol-sealos.catalogDict" $root | fromJson) -}}
{{- if and (eq $spec.mode $mode) (include "otelcol-sealos.enabled" (dict "root" $root "name" $name)) -}}
{{- $out = append $out $name -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Namespaces of every `*secret*: {namespace: ...}` reference inside a receiver config, one a line. */}}
{{- define "otelcol-sealos.secretNamespaces" -}}
{{- if kindIs "map" . -}}
{{- range $k, $v := . -}}
{{- if and (contains "secret" (lower $k)) (kindIs "map" $v) (hasKey $v "namespace") }}
{{ $v.namespace }}
{{- end -}}
{{- include "otelcol-sealos.secretNamespaces" $v -}}
{{- end -}}
{{- else if kindIs "slice" . -}}
{{- range . }}{{ include "otelcol-sealos.secretNamespaces" . }}{{ end -}}
{{- end -}}
{{- end -}}

{{/* Paths of literal secrets inside .value (keys such as dsn, password), one a line. */}}
{{- define "otelcol-sealos.inlineSecrets" -}}
{{- $secretKeys := list "dsn" "password" "access_key_secret" "secret_key" "secret_access_key" "token" "bearer_token" -}}
{{- if kindIs "map" .value -}}
{{- $path := .path -}}
{{- range $k, $v := .value -}}
{{- if and (has (lower $k) $secretKeys) (kindIs "string" $v) $v (not (hasPrefix "${" $v)) }}
{{ $path }}.{{ $k }}
{{- end -}}
{{- include "otelcol-sealos.inlineSecrets" (dict "path" (printf "%s.%s" $path $k) "value" $v) -}}
{{- end -}}
{{- else if kindIs "slice" .value -}}
{{- $path := .path -}}
{{- range $i, $v := .value }}{{ include "otelcol-sealos.inlineSecrets" (dict "path" (printf "%s[%d]" $path $i) "value" $v) }}{{ end -}}
{{- end -}}
{{- end -}}

{{/*
RBAC of one mode as JSON: {clusterRules: [...], namespaces: {ns: [rules]}} from the catalog entries of
its enabled receivers and their Secret references.
*/}}
{{- define "otelcol-sealos.rbacRules" -}}
{{- $root := .root -}}
{{- $catalog := include "otelcol-sealos.catalogDict" $root | fromJson -}}
{{- $cluster := list -}}
{{- $namespaces := dict -}}
{{- range $name := (include "otelcol-sealos.receiversIn" .) | fromJsonArray -}}
{{- $spec := get $catalog $name -}}
{{- $cluster = concat $cluster ($spec.clusterRules | default list) -}}
{{- range ($spec.namespaceRules | default list) -}}
{{- $_ := set $namespaces .namespace (concat (get $namespaces .namespace | default list) .rules) -}}
{{- end -}}
{{- $cfg := get $root.Values.receivers $name | default dict -}}
{{- range (include "otelcol-sealos.secretNamespaces" $cfg | splitList "\n" | compact | uniq) -}}
{{- $_ := set $namespaces . (concat (get $namespaces . | default list) (list (dict "apiGroups" (list "") "resources" (list "secrets") "verbs" (list "get" "list" "watch")))) -}}
{{- end -}}
{{- end -}}
{{- range $ns, $rules := $namespaces -}}
{{- $_ := set $namespaces $ns (uniq $rules) -}}
{{- end -}}
{{- toJson (dict "clusterRules" (uniq $cluster) "namespaces" $namespaces) -}}
{{- end -}}
