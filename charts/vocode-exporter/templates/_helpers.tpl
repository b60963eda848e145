{{/* The chart's name, or nameOverride. */}}
{{- define "vocode-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The objects' name: fullnameOverride, else the release's name, followed by
the chart's unless the release's name already holds it.
*/}}
{{- define "vocode-exporter.fullname" -}}
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

{{- define "vocode-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vocode-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vocode-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "vocode-exporter.selectorLabels" . }}
app.kubernetes.io/component: exporter
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "vocode-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vocode-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Where the pod's files are mounted. */}}
{{- define "vocode-exporter.keysDir" -}}/etc/vocode-exporter/keys{{- end }}
{{- define "vocode-exporter.configDir" -}}/etc/vocode-exporter/config{{- end }}
{{- define "vocode-exporter.tlsDir" -}}/etc/vocode-exporter/tls{{- end }}

{{/* "true" when the exporter serves HTTPS. */}}
{{- define "vocode-exporter.tls" -}}
{{- if .Values.webConfig.tls.existingSecret }}true{{ end }}
{{- end }}

{{/*
The accounts, each with its key's Secret and entry resolved, as YAML: a list
of {name, url, expectedConnections, secret, key}. Without `accounts`, the
one account "default" of apiKey. A key given as a value lives in the
chart's Secret under the account's name.
*/}}
{{- define "vocode-exporter.accounts" -}}
{{- $fullname := include "vocode-exporter.fullname" . }}
{{- $out := list }}
{{- if .Values.accounts }}
{{- range .Values.accounts }}
{{- $key := .apiKey | default dict }}
{{- if and $key.existingSecret $key.value }}
{{- fail (printf "accounts[%s].apiKey: set existingSecret or value, not both" .name) }}
{{- end }}
{{- if $key.existingSecret }}
{{- $out = append $out (dict "name" .name "url" (.url | default "") "expectedConnections" (.expectedConnections | default dict) "secret" $key.existingSecret "key" ($key.key | default "api-key")) }}
{{- else if $key.value }}
{{- $out = append $out (dict "name" .name "url" (.url | default "") "expectedConnections" (.expectedConnections | default dict) "secret" $fullname "key" (printf "account-%s" .name)) }}
{{- else }}
{{- fail (printf "accounts[%s].apiKey: set existingSecret (a Secret you created) or value" .name) }}
{{- end }}
{{- end }}
{{- else }}
{{- if and .Values.apiKey.existingSecret .Values.apiKey.value }}
{{- fail "apiKey: set existingSecret or value, not both" }}
{{- end }}
{{- if .Values.apiKey.existingSecret }}
{{- $out = append $out (dict "name" "default" "secret" .Values.apiKey.existingSecret "key" .Values.apiKey.key) }}
{{- else if .Values.apiKey.value }}
{{- $out = append $out (dict "name" "default" "secret" $fullname "key" "api-key") }}
{{- else }}
{{- fail "apiKey: set apiKey.existingSecret (a Secret you created holding the key) or apiKey.value, or list accounts" }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* The keys given as values, as the chart's Secret's data: entry: base64. */}}
{{- define "vocode-exporter.secretData" -}}
{{- $data := dict }}
{{- if .Values.accounts }}
{{- range .Values.accounts }}
{{- if and .apiKey .apiKey.value }}
{{- $_ := set $data (printf "account-%s" .name) (.apiKey.value | b64enc) }}
{{- end }}
{{- end }}
{{- else if .Values.apiKey.value }}
{{- $_ := set $data "api-key" (.Values.apiKey.value | b64enc) }}
{{- end }}
{{- if $data }}{{ toYaml $data }}{{ end }}
{{- end }}

{{/* The exporter's config file (--config.file), when accounts are listed. */}}
{{- define "vocode-exporter.configFile" -}}
{{- $keys := include "vocode-exporter.keysDir" . }}
{{- $accounts := list }}
{{- range (include "vocode-exporter.accounts" . | fromYamlArray) }}
{{- $a := dict "name" .name "api_key_file" (printf "%s/%s" $keys .name) }}
{{- if .url }}{{ $_ := set $a "url" .url }}{{ end }}
{{- if .expectedConnections }}{{ $_ := set $a "expected_connections" .expectedConnections }}{{ end }}
{{- $accounts = append $accounts $a }}
{{- end }}
{{- toYaml (dict "accounts" $accounts) }}
{{- end }}

{{/* The exporter-toolkit web config (--web.config.file), with TLS on. */}}
{{- define "vocode-exporter.webConfigFile" -}}
{{- $tlsDir := include "vocode-exporter.tlsDir" . }}
{{- $tls := dict "cert_file" (printf "%s/tls.crt" $tlsDir) "key_file" (printf "%s/tls.key" $tlsDir) }}
{{- toYaml (dict "tls_server_config" (merge $tls .Values.webConfig.tls.config)) }}
{{- end }}

{{/* The names of the accounts, as probe targets: a YAML list. */}}
{{- define "vocode-exporter.accountNames" -}}
{{- $names := list }}
{{- range (include "vocode-exporter.accounts" . | fromYamlArray) }}
{{- $names = append $names .name }}
{{- end }}
{{- toYaml $names }}
{{- end }}

{{/*
A file of files/ with its sentinel job names replaced by the jobs of this
chart: (list . TEXT). `make generate` renders the rules and the dashboard
with these sentinels as the jobs, so that the file is never run through the
template engine, whose {{ }} are Prometheus' and Grafana's too.
*/}}
{{- define "vocode-exporter.withJobs" -}}
{{- $root := index . 0 }}
{{- index . 1 | replace "__VOCODE_EXPORTER_JOB__" $root.Values.jobs.exporter | replace "__VOCODE_JOB__" $root.Values.jobs.accounts }}
{{- end }}

{{/* A duration of the schema's form (1m30s, 500ms) in milliseconds. */}}
{{- define "vocode-exporter.durationMs" -}}
{{- $units := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 }}
{{- $ms := 0 }}
{{- range regexFindAll "[0-9]+(ms|s|m|h)" . -1 }}
{{- $ms = add $ms (mul (regexFind "^[0-9]+" . | atoi) (get $units (regexReplaceAll "^[0-9]+" . ""))) }}
{{- end }}
{{- $ms }}
{{- end }}

{{/*
Fails unless a scrape object's scrapeTimeout is below its interval: (list
"serviceMonitor" .Values.serviceMonitor). Each scrape walks the API, and
must end before the next one starts.
*/}}
{{- define "vocode-exporter.checkScrapeTimeout" -}}
{{- $name := index . 0 }}
{{- $v := index . 1 }}
{{- if ge (include "vocode-exporter.durationMs" $v.scrapeTimeout | atoi) (include "vocode-exporter.durationMs" $v.interval | atoi) }}
{{- fail (printf "%s.scrapeTimeout (%s) must be below %s.interval (%s): each scrape walks the Vocode API and must end before the next one starts" $name $v.scrapeTimeout $name $v.interval) }}
{{- end }}
{{- end }}
