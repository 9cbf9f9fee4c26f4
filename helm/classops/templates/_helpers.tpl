{{/* Labels on every object of the release. */}}
{{- define "classops.labels" -}}
app.kubernetes.io/name: classops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: classops
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* Selectors of the two components. */}}
{{- define "classops.controllerSelector" -}}
app.kubernetes.io/name: classops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "classops.gallerySelector" -}}
app.kubernetes.io/name: classops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gallery
{{- end }}

{{- define "classops.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The restricted Pod Security profile, for classops' own pods. */}}
{{- define "classops.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "classops.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}
