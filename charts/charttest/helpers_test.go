package charttest

import (
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"
)

// root is the repository's root, from this package's directory (where go
// test runs).
const root = "../.."

var chartDir = filepath.Join(root, ChartDir)

// ciCase is one values file of the chart's ci/ and what it renders.
type ciCase struct {
	name    string         // file name without -values.yaml
	values  map[string]any // as the user gives them
	merged  map[string]any // coalesced with the chart's defaults
	objects []Manifest
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := LoadChart(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ciCases renders the chart for every values file of ci/.
func ciCases(t *testing.T) []ciCase {
	t.Helper()
	c := loadChart(t)
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files in %s/ci: %v", chartDir, err)
	}
	var cases []ciCase
	for _, f := range files {
		v, err := ReadValues(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := Render(c, v)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		merged, err := chartutil.CoalesceValues(c, v)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, ciCase{
			name: strings.TrimSuffix(filepath.Base(f), "-values.yaml"), values: v,
			merged: merged.AsMap(), objects: objs,
		})
	}
	return cases
}

// decode decodes a manifest strictly: a field the type does not have fails.
func decode[T any](t *testing.T, m Manifest) T {
	t.Helper()
	var obj T
	if err := yaml.UnmarshalStrict([]byte(m.YAML), &obj); err != nil {
		t.Fatalf("%s %s (%s): %v", m.Kind, m.Name, m.Template, err)
	}
	return obj
}

// only returns the one object of a kind, failing unless there is exactly one.
func only[T any](t *testing.T, c ciCase, kind string) T {
	t.Helper()
	var found []Manifest
	for _, m := range c.objects {
		if m.Kind == kind {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d objects of kind %s, want 1", c.name, len(found), kind)
	}
	return decode[T](t, found[0])
}

// has reports whether the case renders an object of kind.
func (c ciCase) has(kind string) bool {
	for _, m := range c.objects {
		if m.Kind == kind {
			return true
		}
	}
	return false
}

// value returns the merged value at a dotted path, or nil.
func (c ciCase) value(path string) any {
	var v any = c.merged
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func (c ciCase) jobs() Jobs {
	a, _ := c.value("jobs.accounts").(string)
	e, _ := c.value("jobs.exporter").(string)
	return Jobs{Accounts: a, Exporter: e}
}

func (c ciCase) enabled(path string) bool {
	b, _ := c.value(path + ".enabled").(bool)
	return b
}
