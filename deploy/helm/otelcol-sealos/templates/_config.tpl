{{/*
The collector config of one mode (deployment or daemonset): the enabled receivers' config passed
through, one leader_election/<receiver> per cluster-wide receiver, the status extension for probes,
the Prometheus and/or OTLP exporters, extraConfig merged last.
*/}}
{{- define "otelcol-sealos.config" -}}
{{- $root := .root -}}{{- $mode := .mode -}}
{{- $v := $root.Values -}}
{{- $fullname := include "otelcol-sealos.fullname" $root -}}
{{- $receivers := dict "config_reload" dict -}}
{{- $names := list -}}
{{- $extensions := dict "status" (dict "endpoint" "0.0.0.0:13134") -}}
{{- $extIDs := list "status" -}}
{{- range $name := (include "otelcol-sealos.receiversIn" .) | fromJsonArray -}}
{{- $cfg := omit (get $v.receivers $name | default dict) "enabled" | deepCopy -}}
{{- $inline := include "otelcol-sealos.inlineSecrets" (dict "path" (printf "receivers.%s" $name) "value" $cfg) | splitList "\n" | compact -}}
{{- if $inline -}}
{{- fail (printf "%s: a literal secret would land in the ConfigMap; reference a Secret instead (the receiver's *_secret key, or \"${env:VAR}\" with env/envFrom from a Secret)" (join ", " $inline)) -}}
{{- end -}}
{{- if and (eq $mode "deployment") $v.leaderElection.enabled (not (hasKey $cfg "k8s_leader_elector")) -}}
{{- $id := printf "leader_election/%s" $name -}}
{{- $_ := set $cfg "k8s_leader_elector" $id -}}
{{- $_ := set $extensions $id (dict "lease_name" (printf "%s-%s" $fullname $name) "lease_namespace" "${env:POD_NAMESPACE}" "lease_duration" $v.leaderElection.lease_duration "renew_deadline" $v.leaderElection.renew_deadline "retry_period" $v.leaderElection.retry_period) -}}
{{- $extIDs = append $extIDs $id -}}
{{- end -}}
{{- $_ := set $receivers $name $cfg -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- $names = append $names "config_reload" -}}
{{- if $v.debug.pprof -}}
{{- $_ := set $extensions "pprof" (dict "endpoint" "localhost:1777") -}}
{{- $extIDs = append $extIDs "pprof" -}}
{{- end -}}
{{- if $v.debug.zpages -}}
{{- $_ := set $extensions "zpages" (dict "endpoint" "localhost:55679") -}}
{{- $extIDs = append $extIDs "zpages" -}}
{{- end -}}
{{- $exporters := dict -}}
{{- if $v.prometheus.enabled -}}
{{- $prom := dict "endpoint" (printf "0.0.0.0:%d" (int $v.prometheus.port)) "namespace" "sealos" "without_scope_info" true "metric_expiration" $v.prometheus.metric_expiration -}}
{{- if $v.tls.enabled -}}
{{- $_ := set $prom "tls" (dict "cert_file" "/tls/tls.crt" "key_file" "/tls/tls.key" "reload_interval" "1m") -}}
{{- end -}}
{{- if $v.auth.enabled -}}
{{- $_ := set $prom "middlewares" (list (dict "id" "k8s_rbac_auth")) -}}
{{- $_ := set $extensions "k8s_rbac_auth" dict -}}
{{- $extIDs = append $extIDs "k8s_rbac_auth" -}}
{{- end -}}
{{- $_ := set $exporters "prometheus_state" $prom -}}
{{- end -}}
{{- if $v.otlp.enabled -}}
{{- $_ := set $exporters (ternary "otlp_grpc" "otlp_http" (eq $v.otlp.protocol "grpc")) (deepCopy $v.otlp.exporter) -}}
{{- end -}}
{{- if not $exporters -}}
{{- fail "no exporter: enable prometheus.enabled and/or otlp.enabled" -}}
{{- end -}}
{{- $config := dict
  "receivers" $receivers
  "extensions" $extensions
  "processors" (dict "memory_limiter" (dict "check_interval" "1s" "limit_percentage" 80 "spike_limit_percentage" 20) "batch" dict)
  "exporters" $exporters
  "service" (dict
    "extensions" $extIDs
    "telemetry" (dict "logs" (dict "level" $v.logging.level "encoding" $v.logging.encoding) "metrics" (dict "level" "none"))
    "pipelines" (dict "metrics" (dict "receivers" $names "processors" (list "memory_limiter" "batch") "exporters" (keys $exporters | sortAlpha))))
-}}
{{- toYaml (mergeOverwrite $config (deepCopy $v.extraConfig)) -}}
{{- end -}}
