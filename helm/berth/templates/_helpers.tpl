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
{{- /* Per component (controllers, api): call with (dict "ctx" $ "component" "api"). */ -}}
{{- define "berth.component.name" -}}
{{ printf "%s-%s" (include "berth.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end -}}
{{- define "berth.component.selectorLabels" -}}
{{ include "berth.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
{{- define "berth.component.labels" -}}
{{ include "berth.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
{{- /* A component's service account: its own unless serviceAccount.create is false. */ -}}
{{- define "berth.component.serviceAccountName" -}}
{{- $values := index .ctx.Values .component -}}
{{- if .ctx.Values.serviceAccount.create -}}{{ default (include "berth.component.name" .) $values.serviceAccountName }}{{- else -}}{{ default "default" $values.serviceAccountName }}{{- end -}}
{{- end -}}
{{- /*
Binds a component's <name>-secrets ClusterRole: cluster-wide by default (pools create their
namespaces at run time, and Apps may be created with kubectl anywhere), or with
rbac.secretNamespaces a RoleBinding in each listed namespace only. kube-system is refused.
*/ -}}
{{- define "berth.secretsBindings" -}}
{{- $name := include "berth.component.name" . -}}
{{- $labels := include "berth.component.labels" . -}}
{{- $sa := include "berth.component.serviceAccountName" . -}}
{{- $ns := .ctx.Release.Namespace -}}
{{- if not .ctx.Values.rbac.secretNamespaces }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $name }}-secrets
  labels: {{- $labels | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{ $name }}-secrets}
subjects:
  - {kind: ServiceAccount, name: {{ $sa }}, namespace: {{ $ns }}}
{{- else }}
{{- range $target := .ctx.Values.rbac.secretNamespaces }}
{{- if eq $target "kube-system" }}{{ fail "rbac.secretNamespaces: Berth never gets Secrets in kube-system" }}{{ end }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}-secrets
  namespace: {{ $target }}
  labels: {{- $labels | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{ $name }}-secrets}
subjects:
  - {kind: ServiceAccount, name: {{ $sa }}, namespace: {{ $ns }}}
{{- end }}
{{- end }}
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
{{- /* The builder's registry and limits (source deploys: the API, and the git endpoint). */ -}}
{{- define "berth.build.env" -}}
{{- with .Values.registry }}
{{- if .host }}
- {name: BERTH_REGISTRY, value: {{ printf "%s/%s" .host .prefix | quote }}}
{{- end }}
{{- if .pullHost }}
- {name: BERTH_REGISTRY_PULL, value: {{ .pullHost | quote }}}
{{- end }}
{{- if .existingSecret }}
- name: BERTH_REGISTRY_USERNAME
  valueFrom: {secretKeyRef: {name: {{ .existingSecret }}, key: username}}
- name: BERTH_REGISTRY_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .existingSecret }}, key: password}}
{{- end }}
{{- end }}
- {name: BERTH_BUILD_MAX_UPLOAD_MB, value: {{ .Values.build.maxUploadMB | quote }}}
- {name: BERTH_BUILD_MAX_UNPACKED_MB, value: {{ .Values.build.maxUnpackedMB | quote }}}
{{- end -}}
