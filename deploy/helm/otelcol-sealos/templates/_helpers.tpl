{{- define "otelcol-sealos.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "otelcol-sealos.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 58 | trimSuffix "-" -}}
{{- else if contains (include "otelcol-sealos.name" .) .Release.Name -}}
{{- .Release.Name | trunc 58 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "otelcol-sealos.name" .) | trunc 58 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Object name of a mode: <fullname> for the Deployment, <fullname>-node for the DaemonSet. */}}
{{- define "otelcol-sealos.modeName" -}}
{{- include "otelcol-sealos.fullname" .root -}}{{- if eq .mode "daemonset" }}-node{{ end -}}
{{- end -}}

{{- define "otelcol-sealos.component" -}}
{{- if eq . "daemonset" }}node{{ else }}cluster{{ end -}}
{{- end -}}

{{- define "otelcol-sealos.selectorLabels" -}}
app.kubernetes.io/name: {{ include "otelcol-sealos.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "otelcol-sealos.labels" -}}
{{ include "otelcol-sealos.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "otelcol-sealos.modeSelectorLabels" -}}
{{ include "otelcol-sealos.selectorLabels" .root }}
app.kubernetes.io/component: {{ include "otelcol-sealos.component" .mode }}
{{- end -}}

{{- define "otelcol-sealos.modeLabels" -}}
{{ include "otelcol-sealos.labels" .root }}
app.kubernetes.io/component: {{ include "otelcol-sealos.component" .mode }}
{{- end -}}

{{- define "otelcol-sealos.serviceAccountName" -}}
{{- $base := include "otelcol-sealos.fullname" .root -}}
{{- if .root.Values.serviceAccount.name }}{{ $base = .root.Values.serviceAccount.name }}{{ end -}}
{{- $base }}{{ if eq .mode "daemonset" }}-node{{ end -}}
{{- end -}}

{{- define "otelcol-sealos.image" -}}
{{- $img := .root.Values.image -}}
{{- if and (eq .mode "daemonset") .root.Values.daemonset.image.repository -}}
{{- $img = merge (deepCopy .root.Values.daemonset.image) $img -}}
{{- end -}}
{{- printf "%s:%s" $img.repository (($img.tag | default .root.Chart.AppVersion) | toString) -}}
{{- end -}}

{{- define "otelcol-sealos.tlsSecret" -}}
{{- include "otelcol-sealos.fullname" . }}-tls
{{- end -}}

{{/* The modes that run: a JSON list of "deployment" and/or "daemonset". */}}
{{- define "otelcol-sealos.modes" -}}
{{- $known := include "otelcol-sealos.catalogDict" $ | fromJson | keys | sortAlpha -}}
{{- range $name, $_ := .Values.receivers -}}
{{- if not (has $name $known) }}{{ fail (printf "receivers.%s: unknown receiver; known: %s" $name (join ", " $known)) }}{{ end -}}
{{- end -}}
{{- range $i, $name := .Values.enabledCollectors -}}
{{- if not (has $name $known) }}{{ fail (printf "enabledCollectors[%d]: unknown receiver %q; known: %s" $i $name (join ", " $known)) }}{{ end -}}
{{- end -}}
{{- $out := list -}}
{{- range $mode := list "deployment" "daemonset" -}}
{{- if include "otelcol-sealos.receiversIn" (dict "root" $ "mode" $mode) | fromJsonArray -}}
{{- $out = append $out $mode -}}
{{- end -}}
{{- end -}}
{{- if not $out -}}
{{- fail "no receiver is enabled: set receivers.<name>.enabled=true or enabledCollectors" -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}
