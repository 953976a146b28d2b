{{- define "berth.name" -}}berth{{- end -}}
{{- define "berth.fullname" -}}
{{- if contains "berth" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-berth" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "berth.labels" -}}
app.kubernetes.io/name: berth
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: berth
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "berth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "berth.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}
{{- /* The router's own name label, so the controller Deployment's selector never matches its pods. */ -}}
{{- define "berth.router.selectorLabels" -}}
app.kubernetes.io/name: berth-router
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "berth.router.labels" -}}
{{ include "berth.router.selectorLabels" . }}
app.kubernetes.io/component: router
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
