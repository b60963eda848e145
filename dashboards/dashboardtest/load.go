// Package dashboardtest proves dashboards/vocode.json and the rule files in
// alerts/: the dashboard decodes strictly with the Grafana Foundation SDK,
// follows the dashboard-linter's rules, every PromQL expression parses, and
// (end to end, with a real Prometheus) every panel returns data from the real
// exporter. It is a module of its own so that the exporter's go.mod does not
// carry Grafana's and Prometheus' dependency trees.
package dashboardtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Paths are relative to this package's directory, where go test runs.
const (
	dashboardPath = "../vocode.json"
	alertsDir     = "../../alerts"
	rulesGlob     = alertsDir + "/*.rules.yml"
	runbookPath   = alertsDir + "/README.md"

	// dashboardUID is fixed so that links and provisioning survive re-imports.
	dashboardUID = "vocode-exporter-connections"
)

// Dashboard is the part of Grafana's classic JSON model the checks read.
// The strict decode with the SDK is what proves the model as a whole.
type Dashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Tags          []string `json:"tags"`
	SchemaVersion int      `json:"schemaVersion"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Variable is a templating variable.
type Variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Datasource *DataSourceRef  `json:"datasource"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

// QueryString is the variable's query whether Grafana stored it as a string
// or as an object with a "query" field (newer editors do the latter).
func (v Variable) QueryString() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &o)
	return o.Query
}

// DataSourceRef points a panel, target or variable at a data source.
type DataSourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is a dashboard panel; rows carry nested panels when collapsed.
type Panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Datasource  *DataSourceRef `json:"datasource"`
	GridPos     struct {
		X, Y, W, H int
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []Target `json:"targets"`
	Panels  []Panel  `json:"panels"`
}

// Target is a Prometheus query of a panel.
type Target struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Datasource *DataSourceRef `json:"datasource"`
	Instant    bool           `json:"instant"`
}

// dashboardFile is the dashboard under test. VOCODE_DASHBOARD points the
// tests at another file, to show that they catch a broken copy.
func dashboardFile() string {
	if f := os.Getenv("VOCODE_DASHBOARD"); f != "" {
		return f
	}
	return dashboardPath
}

func readDashboard() ([]byte, *Dashboard, error) {
	file := dashboardFile()
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var d Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return raw, &d, nil
}

// AllPanels flattens rows: collapsed rows hold their panels inside.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Query is one PromQL expression of the dashboard and where it comes from.
type Query struct {
	Where string // "panel 3 \"Title\" target A"
	Expr  string
}

// Queries lists every panel target's expression.
func (d *Dashboard) Queries() []Query {
	var qs []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			qs = append(qs, Query{
				Where: fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, t.RefID),
				Expr:  t.Expr,
			})
		}
	}
	return qs
}

// labelValuesRE matches Grafana's label_values(selector, label) variable
// query; the selector is optional in Grafana but we always give one.
var labelValuesRE = regexp.MustCompile(`^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)

// parseLabelValues splits a label_values(selector, label) query.
func parseLabelValues(q string) (selector, label string, ok bool) {
	m := labelValuesRE.FindStringSubmatch(q)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// Grafana's built-in interval variables. The rate interval stands for
// Grafana's max(4 x scrape interval, step + scrape interval); a minute is
// what it comes to with Grafana's default 15s scrape interval.
var builtins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "1h",
}

// varRE matches the three ways Grafana writes a variable reference.
var varRE = regexp.MustCompile(`\$\{([a-zA-Z0-9_]+)(?::[a-z]+)?\}|\[\[([a-zA-Z0-9_]+)\]\]|\$([a-zA-Z0-9_]+)`)

// Interpolate replaces variable references the way Grafana would before
// sending a query. vars holds each dashboard variable's value already in
// the form the query needs (for multi-value variables, a regex).
// Unknown variables are an error: a typo must not pass as a literal.
func Interpolate(expr string, vars map[string]string) (string, error) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := builtins[name]; ok {
			return v
		}
		if v, ok := vars[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variables %v in %q", missing, expr)
	}
	return out, nil
}

// RegexAlternation is how Grafana formats a multi-value variable for a
// Prometheus regex matcher: (a|b|c), each value's regex metacharacters
// escaped, and each escape doubled because it lands inside a PromQL
// string literal (the PromQL string "127\\.0" holds the regex 127\.0).
func RegexAlternation(values []string) string {
	vs := append([]string(nil), values...)
	sort.Strings(vs)
	for i, v := range vs {
		vs[i] = strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
	}
	if len(vs) == 1 {
		return vs[0]
	}
	return "(" + strings.Join(vs, "|") + ")"
}

// ruleFiles lists the Prometheus rule files the tests load.
func ruleFiles() ([]string, error) {
	files, err := filepath.Glob(rulesGlob)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no rule files match %s", rulesGlob)
	}
	return files, nil
}
