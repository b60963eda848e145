package charttest

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	b, err := Dashboard(jobs, "")
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
	uids := map[string][]string{} // ci cases by the uid of their dashboard
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
			uid, _ := c.value("grafanaDashboard.uid").(string)
			want, err := Dashboard(c.jobs(), uid)
			if err != nil {
				t.Fatal(err)
			}
			// The sidecar's file name: one per uid, so that two
			// releases' dashboards are two files.
			file := uid + ".json"
			got, ok := cm.Data[file]
			if !ok || len(cm.Data) != 1 {
				t.Fatalf("the ConfigMap's entries are %v, want only %s", slices.Collect(maps.Keys(cm.Data)), file)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("%s is not JSON", file)
			}
			if !bytes.Equal(bytes.TrimSpace([]byte(got)), bytes.TrimSpace(want)) {
				t.Errorf("%s (%d bytes) is not the dashboard for jobs %+v and uid %q (%d bytes)", file, len(got), c.jobs(), uid, len(want))
			}
			if u := dashboardUID(t, []byte(got)); u != uid {
				t.Errorf("the dashboard's uid is %q, grafanaDashboard.uid %q", u, uid)
			}
			uids[uid] = append(uids[uid], c.name)
		})
	}
	if seen == 0 {
		t.Error("no ci values turn the dashboard on")
	}
	// Two releases ship the dashboard to one Grafana in the ci cases (the
	// probe and calls ones): with uids of their own, not one replacing
	// the other.
	if len(uids) < 2 {
		t.Errorf("every ci case that ships the dashboard gives it one uid (%v): none shows grafanaDashboard.uid set", uids)
	}
	// With the default jobs, the dashboard is the one dashboards/ ships,
	// and the chart's default uid is the mixin's.
	want, err := os.ReadFile(filepath.Join(root, DashboardSource))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Dashboard(DefaultJobs, ""); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the mixin's dashboard for the default jobs is not %s (%v)", DashboardSource, err)
	}
	defaults, err := ReadValues(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gd, _ := defaults["grafanaDashboard"].(map[string]any)
	if u, mixinUID := gd["uid"], dashboardUID(t, want); u != mixinUID {
		t.Errorf("values.yaml's grafanaDashboard.uid is %v, the mixin's dashboard's %q", u, mixinUID)
	}
}

// dashboardUID is the uid of a dashboard's JSON.
func dashboardUID(t *testing.T, b []byte) string {
	t.Helper()
	var d struct {
		UID string `json:"uid"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d.UID
}
