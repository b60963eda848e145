package charttest

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// collectorArgs are the Deployment's arguments that turn collectors on and
// off or set the calls collector, in their order.
func collectorArgs(t *testing.T, values map[string]any) []string {
	t.Helper()
	objs, err := Render(loadChart(t), values)
	if err != nil {
		t.Fatal(err)
	}
	dep := only[appsv1.Deployment](t, ciCase{name: "values", objects: objs}, "Deployment")
	var out []string
	for _, a := range dep.Spec.Template.Spec.Containers[0].Args {
		if strings.HasPrefix(a, "--collector.") || strings.HasPrefix(a, "--no-collector.") {
			out = append(out, a)
		}
	}
	return out
}

// TestCollectorArgs: collectors and calls reach the exporter as its flags,
// a setting left at 0 or empty as no flag (the exporter's default).
// TestArgsAcceptedByExporter runs the binary with those of ci/.
func TestCollectorArgs(t *testing.T) {
	key := map[string]any{"existingSecret": "vocode-exporter"}
	defaults := []string{"--collector.usage", "--collector.numbers", "--collector.agents", "--no-collector.calls"}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{"defaults", map[string]any{}, defaults},
		{"agents off", map[string]any{"collectors": map[string]any{"agents": false}},
			[]string{"--collector.usage", "--collector.numbers", "--no-collector.agents", "--no-collector.calls"}},
		{"calls with every setting", map[string]any{
			"collectors": map[string]any{"calls": true},
			"calls": map[string]any{
				"window": "1h", "maxPages": 20, "maxUnstartedPages": 5, "shortCall": "15s", "byAgent": true, "maxAgents": 5,
			},
		}, []string{
			"--collector.usage", "--collector.numbers", "--collector.agents", "--collector.calls",
			"--collector.calls.window=1h", "--collector.calls.max-pages=20", "--collector.calls.max-unstarted-pages=5",
			"--collector.calls.short-call=15s", "--collector.calls.by-agent", "--collector.calls.max-agents=5",
		}},
		{"by agent alone", map[string]any{"collectors": map[string]any{"calls": true}, "calls": map[string]any{"byAgent": true}},
			[]string{"--collector.usage", "--collector.numbers", "--collector.agents", "--collector.calls", "--collector.calls.by-agent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.values["apiKey"] = key
			if got := collectorArgs(t, tc.values); !slices.Equal(got, tc.want) {
				t.Errorf("collector arguments\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
