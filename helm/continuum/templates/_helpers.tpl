{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "continuum.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: "<release>-<chart>", or the release name when it already contains the chart name.
*/}}
{{- define "continuum.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "continuum.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels of every resource.
*/}}
{{- define "continuum.labels" -}}
helm.sh/chart: {{ include "continuum.chart" . }}
{{ include "continuum.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: continuum
{{- end }}

{{/*
Selector labels: stable across upgrades, so never the chart version. Templates add app.kubernetes.io/component.
*/}}
{{- define "continuum.selectorLabels" -}}
app.kubernetes.io/name: {{ include "continuum.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the orchestrator's service account.
*/}}
{{- define "continuum.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "continuum.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Continuum image reference.
*/}}
{{- define "continuum.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Secret with the operator token and the orchestrator's MQTT password.
*/}}
{{- define "continuum.secretName" -}}
{{- default (include "continuum.fullname" .) .Values.orchestrator.auth.existingSecret }}
{{- end }}

{{/*
Names of the broker's resources and of the RayCluster.
*/}}
{{- define "continuum.broker.fullname" -}}
{{- printf "%s-broker" (include "continuum.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "continuum.broker.devicesSecretName" -}}
{{- default (printf "%s-devices" (include "continuum.broker.fullname" .)) .Values.broker.auth.existingSecret }}
{{- end }}

{{- define "continuum.ray.fullname" -}}
{{- printf "%s-ray" (include "continuum.fullname" .) | trunc 50 | trimSuffix "-" }}
{{- end }}

{{- define "continuum.leaseName" -}}
{{- include "continuum.fullname" . }}
{{- end }}

{{/*
Whether the orchestrator talks TLS to the broker, and the Secret holding the CA that verifies it.
*/}}
{{- define "continuum.mqtt.tls" -}}
{{- if or .Values.mqtt.tls.enabled (and .Values.broker.enabled .Values.broker.tls.enabled) }}true{{- end }}
{{- end }}

{{- define "continuum.mqtt.caSecret" -}}
{{- default .Values.broker.tls.secretName .Values.mqtt.tls.caSecret }}
{{- end }}

{{/*
HOST:PORT of the broker the orchestrator connects to.
*/}}
{{- define "continuum.mqtt.address" -}}
{{- $tls := include "continuum.mqtt.tls" . }}
{{- $host := .Values.mqtt.host }}
{{- $port := .Values.mqtt.port }}
{{- if not $host }}
{{- $host = printf "%s-internal.%s.svc" (include "continuum.broker.fullname" .) .Release.Namespace }}
{{- if not $port }}
{{- $port = .Values.broker.service.internalPort }}
{{- end }}
{{- end }}
{{- if not $port }}
{{- $port = ternary 8883 1883 (eq $tls "true") }}
{{- end }}
{{- printf "%s:%v" $host $port }}
{{- end }}

{{/*
Pod-level security context of the restricted Pod Security Standard. Call with (dict "uid" N).
*/}}
{{- define "continuum.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Container-level security context of the restricted Pod Security Standard, with a read-only root filesystem.
*/}}
{{- define "continuum.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The uid the Continuum image runs as (the Dockerfile's `continuum` user).
*/}}
{{- define "continuum.uid" -}}10001{{- end }}

{{/*
Mosquitto's ACL for the fleet, identical to `continuum broker config` (orchestrator/security/acl.py):
devices (user name = device id = %u) publish only their own birth/state/death and read only their own cmd
and the fleet's orchestrator state; the orchestrator user reads the fleet and writes cmd and its state.
*/}}
{{- define "continuum.broker.acl" -}}
{{- $base := printf "continuum/v1/%s" .Values.fleet -}}
# Continuum ACL for fleet {{ .Values.fleet | squote }}, rendered by the Helm chart.
# Anonymous clients are refused at connect (allow_anonymous false), so no anonymous rules.
# Every account: a device publishes only its own birth/state/death (%u = its username = its id)
# and reads only its own commands and the fleet's orchestrator state.
pattern write {{ $base }}/%u/birth
pattern write {{ $base }}/%u/state
pattern write {{ $base }}/%u/death
pattern read {{ $base }}/%u/cmd
pattern read {{ $base }}/orchestrator

# The orchestrator: reads the whole fleet, writes commands and its own state.
user {{ .Values.mqtt.username }}
topic read {{ $base }}/#
topic write {{ $base }}/+/cmd
topic write {{ $base }}/orchestrator
{{- end }}
