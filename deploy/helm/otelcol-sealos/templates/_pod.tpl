{{/* The pod template shared by the Deployment and the DaemonSet. */}}
{{- define "otelcol-sealos.pod" -}}
{{- $root := .root -}}{{- $mode := .mode -}}
{{- $v := $root.Values -}}
{{- $catalog := include "otelcol-sealos.catalogDict" $root | fromJson -}}
{{- $privileged := false -}}{{- $hostPID := false -}}
{{- range $name := (include "otelcol-sealos.receiversIn" .) | fromJsonArray -}}
{{- $spec := get $catalog $name -}}
{{- if $spec.privileged }}{{ $privileged = true }}{{ end -}}
{{- if $spec.hostPID }}{{ $hostPID = true }}{{ end -}}
{{- end -}}
{{- $w := ternary $v.deployment $v.daemonset (eq $mode "deployment") -}}
metadata:
  labels:
    {{- include "otelcol-sealos.modeSelectorLabels" . | nindent 4 }}
    {{- with $v.podLabels }}{{ toYaml . | nindent 4 }}{{ end }}
  {{- with $v.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "otelcol-sealos.serviceAccountName" . }}
  {{- if $hostPID }}
  hostPID: true
  {{- end }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets: {{ toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- if $privileged }}
    runAsUser: 0
    {{- else }}
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    {{- end }}
    fsGroup: 10001              # the TLS Secret's files readable by the collector's group
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: otelcol-sealos
      image: {{ include "otelcol-sealos.image" . }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      # A directory mount (not subPath): the watching file provider reloads ConfigMap edits in place.
      args: ["--config=/conf/config.yaml"]
      env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - name: NODE_NAME
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
        - name: K8S_NODE_NAME
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
        - name: GOMEMLIMIT
          valueFrom: {resourceFieldRef: {resource: limits.memory}}
        {{- with $v.env }}{{ toYaml . | nindent 8 }}{{ end }}
      {{- with $v.envFrom }}
      envFrom: {{ toYaml . | nindent 8 }}
      {{- end }}
      ports:
        {{- if $v.prometheus.enabled }}
        - {name: metrics, containerPort: {{ $v.prometheus.port }}}
        {{- end }}
        - {name: status, containerPort: 13134}
      # /livez fails only if this process is broken (never because a database, domain or the API
      # server is down); /readyz once every pipeline runs. GET /status explains both.
      livenessProbe:
        httpGet: {path: /livez, port: status}
        periodSeconds: 20
        failureThreshold: 3
      readinessProbe:
        httpGet: {path: /readyz, port: status}
        periodSeconds: 10
      resources: {{ toYaml $w.resources | nindent 8 }}
      securityContext:
        {{- if $privileged }}
        privileged: true
        {{- else }}
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
        {{- end }}
        readOnlyRootFilesystem: true
      volumeMounts:
        - {name: config, mountPath: /conf}
        {{- if $v.tls.enabled }}
        - {name: tls, mountPath: /tls, readOnly: true}
        {{- end }}
        {{- if $privileged }}
        - {name: dev, mountPath: /dev}
        - {name: run-lvm, mountPath: /run/lvm}
        - {name: etc-lvm, mountPath: /etc/lvm, readOnly: true}
        {{- end }}
        {{- if $hostPID }}
        - {name: host-proc, mountPath: /host/proc, readOnly: true}
        {{- end }}
        {{- with $v.extraVolumeMounts }}{{ toYaml . | nindent 8 }}{{ end }}
  volumes:
    - name: config
      configMap: {name: {{ include "otelcol-sealos.modeName" . }}}
    {{- if $v.tls.enabled }}
    - name: tls
      secret: {secretName: {{ include "otelcol-sealos.tlsSecret" $root }}, defaultMode: 0440}
    {{- end }}
    {{- if $privileged }}
    - {name: dev, hostPath: {path: /dev}}
    - {name: run-lvm, hostPath: {path: /run/lvm, type: DirectoryOrCreate}}
    - {name: etc-lvm, hostPath: {path: /etc/lvm, type: DirectoryOrCreate}}
    {{- end }}
    {{- if $hostPID }}
    - {name: host-proc, hostPath: {path: /proc}}
    {{- end }}
    {{- with $v.extraVolumes }}{{ toYaml . | nindent 4 }}{{ end }}
  {{- with $w.nodeSelector }}
  nodeSelector: {{ toYaml . | nindent 4 }}
  {{- end }}
  {{- with $w.tolerations }}
  tolerations: {{ toYaml . | nindent 4 }}
  {{- end }}
  {{- if eq $mode "deployment" }}
  affinity:
    {{- if $w.affinity }}
    {{- toYaml $w.affinity | nindent 4 }}
    {{- else }}
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          podAffinityTerm:
            topologyKey: kubernetes.io/hostname
            labelSelector:
              matchLabels: {{- include "otelcol-sealos.modeSelectorLabels" . | nindent 16 }}
    {{- end }}
  {{- end }}
{{- end -}}
