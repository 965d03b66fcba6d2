{{/* The chart's name, or nameOverride. */}}
{{- define "districtlake.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: fullnameOverride, or the release name when it already holds the
chart's name, or <release>-<chart>.
*/}}
{{- define "districtlake.fullname" -}}
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

{{- define "districtlake.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "districtlake.labels" -}}
helm.sh/chart: {{ include "districtlake.chart" . }}
{{ include "districtlake.selectorLabels" . }}
app.kubernetes.io/version: {{ include "districtlake.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: districtlake
{{- end }}

{{/* Labels that select the manager's pods. */}}
{{- define "districtlake.selectorLabels" -}}
app.kubernetes.io/name: {{ include "districtlake.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{- define "districtlake.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "districtlake.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "districtlake.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* The image of the manager and of the Jobs it starts. */}}
{{- define "districtlake.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "districtlake.imageTag" .) }}
{{- end }}
