package charttest

import (
	"strings"
	"testing"
)

// TestValuesRefused: values the schema forbids are refused by Helm's own
// validation with a message naming the key; values the templates cannot
// use are refused with a message saying what to set.
func TestValuesRefused(t *testing.T) {
	key := map[string]any{"existingSecret": "vocode-exporter"}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{"unknown top-level key", map[string]any{"apiKey": key, "replicas": 2}, []string{"schema", "replicas"}},
		{"misspelt top-level key", map[string]any{"apiKey": key, "serviceMonitors": map[string]any{"enabled": true}}, []string{"schema", "serviceMonitors"}},
		{"unknown nested key", map[string]any{"apiKey": key, "probe": map[string]any{"enable": true}}, []string{"schema", "enable"}},
		{"wrong type", map[string]any{"apiKey": key, "serviceMonitor": map[string]any{"enabled": "yes"}}, []string{"schema", "serviceMonitor", "enabled", "boolean"}},
		{"wrong type of a list", map[string]any{"apiKey": key, "extraArgs": "--log.level=debug"}, []string{"schema", "extraArgs", "array"}},
		{"job not a name", map[string]any{"apiKey": key, "jobs": map[string]any{"accounts": "vocode|other"}}, []string{"schema", "accounts"}},
		{"account without a key", map[string]any{"accounts": []any{map[string]any{"name": "production"}}}, []string{"schema", "apiKey"}},
		{"account name with a space", map[string]any{"accounts": []any{map[string]any{"name": "prod uction", "apiKey": key}}}, []string{"schema", "name"}},
		{"interval not a duration", map[string]any{"apiKey": key, "serviceMonitor": map[string]any{"interval": "1 minute"}}, []string{"schema", "interval"}},
		{"dashboard uid not a Grafana uid", map[string]any{"apiKey": key, "grafanaDashboard": map[string]any{"uid": "my dashboard"}}, []string{"schema", "uid"}},
		{"agents collector not a boolean", map[string]any{"apiKey": key, "collectors": map[string]any{"agents": "off"}}, []string{"schema", "agents", "boolean"}},
		{"calls window not a duration", map[string]any{"apiKey": key, "calls": map[string]any{"window": "an hour"}}, []string{"schema", "window"}},
		{"calls max pages negative", map[string]any{"apiKey": key, "calls": map[string]any{"maxPages": -1}}, []string{"schema", "maxPages"}},
		{"calls by agent not a boolean", map[string]any{"apiKey": key, "calls": map[string]any{"byAgent": "yes"}}, []string{"schema", "byAgent", "boolean"}},
		{"unknown calls setting", map[string]any{"apiKey": key, "calls": map[string]any{"max-pages": 3}}, []string{"schema", "max-pages"}},
		{"interval units out of order", map[string]any{"apiKey": key, "probe": map[string]any{"interval": "30s1m"}}, []string{"schema", "interval"}},
		{"scrape timeout empty", map[string]any{"apiKey": key, "serviceMonitor": map[string]any{"scrapeTimeout": ""}}, []string{"schema", "scrapeTimeout"}},
		{"no key at all", map[string]any{}, []string{"apiKey.existingSecret", "apiKey.value"}},
		{"a key twice", map[string]any{"apiKey": map[string]any{"existingSecret": "a", "value": "b"}}, []string{"apiKey", "not both"}},
		{"an account's key empty", map[string]any{"accounts": []any{map[string]any{"name": "production", "apiKey": map[string]any{"key": "k"}}}}, []string{"accounts[production].apiKey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(loadChart(t), tc.values)
			if err == nil {
				t.Fatalf("values %v were taken", tc.values)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not name %q:\n%v", w, err)
				}
			}
		})
	}
}
