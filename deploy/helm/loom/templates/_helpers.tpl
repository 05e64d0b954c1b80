{{/* Names, labels and the pieces every role's pod shares. */}}

{{- define "loom.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "loom.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "loom.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "loom.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one role: (dict "root" $ "component" "scheduler"). */}}
{{- define "loom.selectorLabels" -}}
app.kubernetes.io/name: {{ include "loom.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "loom.image" -}}
{{- $image := .image | default dict }}
{{- $repository := $image.repository | default .root.Values.image.repository }}
{{- $tag := $image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{- define "loom.schedulerName" -}}
{{- printf "%s-scheduler" (include "loom.fullname" .) }}
{{- end }}

{{- define "loom.schedulerAddress" -}}
{{- printf "%s:%d" (include "loom.schedulerName" .) (int .Values.scheduler.grpcPort) }}
{{- end }}

{{- define "loom.tokenSecretName" -}}
{{- .Values.token.existingSecret | default (printf "%s-token" (include "loom.fullname" .)) }}
{{- end }}

{{- define "loom.redisName" -}}
{{- printf "%s-redis" (include "loom.fullname" .) }}
{{- end }}

{{- define "loom.modelStoreClaim" -}}
{{- .Values.modelStore.existingClaim | default (printf "%s-models" (include "loom.fullname" .)) }}
{{- end }}

{{/* Environment every Loom process gets: the token, the scheduler's address, TLS files. */}}
{{- define "loom.commonEnv" -}}
- name: LOOM_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "loom.tokenSecretName" . }}
      key: {{ .Values.token.key }}
- name: LOOM_SCHEDULER_ADDRESS
  value: {{ include "loom.schedulerAddress" . | quote }}
{{- end }}

{{/* The Redis URL the jobs runner uses: the bundled service, or the external one (a Secret when it has a password). */}}
{{- define "loom.redisEnv" -}}
{{- include "loom.redisEnvNamed" (dict "root" . "name" "LOOM_REDIS_URL") }}
{{- end }}

{{/* The same Redis URL under another variable name (the scheduler's Jobs page reads LOOM_JOBS_REDIS). */}}
{{- define "loom.redisEnvNamed" -}}
{{- $root := .root }}
{{- if $root.Values.redis.enabled }}
- name: {{ .name }}
  value: {{ printf "redis://%s:6379" (include "loom.redisName" $root) | quote }}
{{- else if $root.Values.redis.external.existingSecret }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.redis.external.existingSecret }}
      key: {{ $root.Values.redis.external.existingSecretKey }}
{{- else }}
- name: {{ .name }}
  value: {{ required "redis.enabled is false: set redis.external.url or redis.external.existingSecret" $root.Values.redis.external.url | quote }}
{{- end }}
{{- end }}

{{- define "loom.tlsArgs" -}}
{{- if .Values.tls.enabled }}
- --tls-cert=/etc/loom/tls/tls.crt
- --tls-key=/etc/loom/tls/tls.key
- --tls-ca=/etc/loom/tls/ca.crt
{{- end }}
{{- end }}

{{- define "loom.tlsVolumeMount" -}}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/loom/tls
  readOnly: true
{{- end }}
{{- end }}

{{- define "loom.tlsVolume" -}}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ required "tls.enabled: set tls.secretName (a Secret with tls.crt, tls.key and ca.crt)" .Values.tls.secretName }}
{{- end }}
{{- end }}

{{/* The pod-level settings every role shares: (dict "root" $) or, with its own, (dict "root" $ "securityContext" ...). */}}
{{- define "loom.podSpecCommon" -}}
securityContext:
  {{- toYaml (.securityContext | default .root.Values.podSecurityContext) | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
