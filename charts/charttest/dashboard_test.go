package charttest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

type variable struct{ name, selector string }

// grafanaVariable is a reference to a dashboard variable in a query.
var grafanaVariable = regexp.MustCompile(`\$\{?\w+\}?`)

// dashboardVariables are the dashboard's variables that list jobs and
// instances: label_values(SELECTOR, job|instance), with the variables
// their selector refers to read as any value.
func dashboardVariables(t *testing.T, jobs Jobs) []variable {
	t.Helper()
	b, err := Dashboard(jobs)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var out []variable
	for _, v := range d.Templating.List {
		var q string
		if json.Unmarshal(v.Query, &q) != nil {
			var o struct {
				Query string `json:"query"`
			}
			_ = json.Unmarshal(v.Query, &o)
			q = o.Query
		}
		if m := labelValues.FindStringSubmatch(q); m != nil {
			out = append(out, variable{name: v.Name, selector: grafanaVariable.ReplaceAllString(m[1], ".+")})
		}
	}
	if len(out) < 2 {
		t.Fatalf("the dashboard has %d variables listing jobs or instances, want both", len(out))
	}
	return out
}

// TestDashboardConfigMap: the dashboard's ConfigMap holds the dashboard for
// the chart's jobs, labelled for the Grafana sidecar.
func TestDashboardConfigMap(t *testing.T) {
	seen := 0
	for _, c := range ciCases(t) {
		if !c.enabled("grafanaDashboard") {
			continue
		}
		seen++
		t.Run(c.name, func(t *testing.T) {
			var cm *corev1.ConfigMap
			for _, m := range c.objects {
				if m.Template == "vocode-exporter/templates/dashboard.yaml" {
					d := decode[corev1.ConfigMap](t, m)
					cm = &d
				}
			}
			if cm == nil {
				t.Fatal("no dashboard ConfigMap")
			}
			if cm.Labels["grafana_dashboard"] != "1" {
				t.Errorf("labels %v lack grafana_dashboard: \"1\", which kube-prometheus-stack's sidecar watches", cm.Labels)
			}
			want, err := Dashboard(c.jobs())
			if err != nil {
				t.Fatal(err)
			}
			got := cm.Data["vocode.json"]
			if !json.Valid([]byte(got)) {
				t.Fatal("vocode.json is not JSON")
			}
			if !bytes.Equal(bytes.TrimSpace([]byte(got)), bytes.TrimSpace(want)) {
				t.Errorf("vocode.json (%d bytes) is not the dashboard for jobs %+v (%d bytes)", len(got), c.jobs(), len(want))
			}
		})
	}
	if seen == 0 {
		t.Error("no ci values turn the dashboard on")
	}
	// With the default jobs, the dashboard is the one dashboards/ ships.
	want, err := os.ReadFile(filepath.Join(root, DashboardSource))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Dashboard(DefaultJobs); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the mixin's dashboard for the default jobs is not %s (%v)", DashboardSource, err)
	}
}
