package dashboardtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/mixin"
)

// customConfig is the mixin configuration the issue asked to prove end to
// end: other jobs for the accounts and the exporter, a cluster variable,
// and a moved threshold.
const customConfig = `{
  vocodeSelector: 'job="voc-accounts"',
  vocodeExporterSelector: 'job="voc-self"',
  showMultiCluster: true,
  callErrorShareThreshold: 0.5,
}`

// rendering is the mixin rendered with one configuration, written to a
// temporary directory so that promtool and Prometheus can load it.
type rendering struct {
	rulesFile string
	dashboard *Dashboard
	rules     *rulefmt.RuleGroups
}

func renderMixin(t *testing.T, config string) rendering {
	t.Helper()
	files, err := mixin.Render(config)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := rendering{rulesFile: filepath.Join(dir, mixin.RulesFile), dashboard: &Dashboard{}}
	if err := json.Unmarshal(files["vocode.json"], r.dashboard); err != nil {
		t.Fatalf("vocode.json: %v", err)
	}
	groups, errs := rulefmt.Parse(files[mixin.RulesFile], false, model.UTF8Validation, promqlParser, nil)
	for _, err := range errs {
		t.Errorf("%s: %v", mixin.RulesFile, err)
	}
	if groups == nil {
		t.FailNow()
	}
	r.rules = groups
	return r
}

// selectorCase is a configuration and the matchers it must put where.
type selectorCase struct {
	name, config string
	// vocode and exporter are the configured selectors; cluster the cluster
	// label when showMultiCluster is on, else "".
	vocode, exporter, cluster string
}

var selectorCases = []selectorCase{
	{name: "defaults", vocode: `job="vocode"`, exporter: `job=~"vocode|vocode_exporter"`},
	{
		name: "custom", config: customConfig,
		vocode: `job="voc-accounts"`, exporter: `job="voc-self"`, cluster: "cluster",
	},
	{
		// Selectors of several matchers, as the Prometheus Operator's
		// README example has them, and another cluster label.
		name: "operator",
		config: `{vocodeSelector: 'job="vocode-accounts", namespace="monitoring"',
			vocodeExporterSelector: 'job="vocode-exporter", namespace="monitoring"',
			showMultiCluster: true, clusterLabel: 'k8s_cluster'}`,
		vocode: `job="vocode-accounts", namespace="monitoring"`, exporter: `job="vocode-exporter", namespace="monitoring"`,
		cluster: "k8s_cluster",
	},
}

// TestSelectorsReachEveryExpression parses every expression the mixin
// renders (recording rules, alerts, panel queries, variable queries) and
// fails for each selector of a vocode_ series or `up` that lacks the
// configured selector's matchers: vocodeSelector for the account series
// and the recorded series (names with a colon), vocodeExporterSelector for `up` and vocode_exporter_ (`up` may carry
// vocodeSelector instead: VocodeExporterDown's absent() does; so may
// ALERTS, which holds the alerts of both). With
// showMultiCluster, every `by` and `on` of the rules keeps the cluster
// label and every dashboard query filters on the cluster variable.
func TestSelectorsReachEveryExpression(t *testing.T) {
	for _, tc := range selectorCases {
		t.Run(tc.name, func(t *testing.T) {
			r := renderMixin(t, tc.config)
			vocode := mustMatchers(t, tc.vocode)
			exporter := mustMatchers(t, tc.exporter)
			// dashboard: a panel or variable query, which must filter on the
			// cluster variable (but the cluster variable's own).
			check := func(where, expr string, dashboard, clusterFiltered bool) {
				ast, err := promqlParser.ParseExpr(expr)
				if err != nil {
					t.Errorf("%s: %v\n%s", where, err, expr)
					return
				}
				parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
					switch n := n.(type) {
					case *parser.VectorSelector:
						checkSelector(t, where, n, vocode, exporter)
						if dashboard && clusterFiltered && tc.cluster != "" && (n.Name == "up" || n.Name == "ALERTS" || strings.HasPrefix(n.Name, "vocode_")) {
							checkClusterFilter(t, where, n, tc.cluster)
						}
					case *parser.AggregateExpr:
						if !dashboard && tc.cluster != "" && !n.Without && len(n.Grouping) > 0 && !slices.Contains(n.Grouping, tc.cluster) {
							t.Errorf("%s: %s by %v drops the cluster label %s", where, n.Op, n.Grouping, tc.cluster)
						}
					case *parser.BinaryExpr:
						if !dashboard && tc.cluster != "" && n.VectorMatching != nil && n.VectorMatching.On &&
							!slices.Contains(n.VectorMatching.MatchingLabels, tc.cluster) {
							t.Errorf("%s: %s on %v ignores the cluster label %s", where, n.Op, n.VectorMatching.MatchingLabels, tc.cluster)
						}
					}
					return nil
				})
			}

			n := 0
			for _, g := range r.rules.Groups {
				for _, rule := range g.Rules {
					check(fmt.Sprintf("%s: rule %s%s", mixin.RulesFile, rule.Record, rule.Alert), rule.Expr, false, false)
					n++
				}
			}
			vars := map[string]string{"job": "__job__", "instance": "__instance__", "account": "__account__"}
			if tc.cluster != "" {
				vars["cluster"] = "__cluster__"
			}
			hasCluster := false
			for _, v := range r.dashboard.Templating.List {
				if v.Type != "query" {
					continue
				}
				sel, label, ok := parseLabelValues(v.QueryString())
				if !ok {
					t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, v.QueryString())
					continue
				}
				if v.Name == "cluster" {
					hasCluster = true
					if label != tc.cluster {
						t.Errorf("variable cluster lists %q, want the cluster label %q", label, tc.cluster)
					}
				}
				check("variable "+v.Name, mustInterpolate(t, sel, vars), true, v.Name != "cluster")
				n++
			}
			if hasCluster != (tc.cluster != "") {
				t.Errorf("dashboard has a cluster variable: %v, want %v", hasCluster, tc.cluster != "")
			}
			for _, q := range r.dashboard.Queries() {
				s := strings.ReplaceAll(q.Expr, "$__rate_interval", "1m")
				check(q.Where, mustInterpolate(t, s, vars), true, true)
				n++
			}
			if n < 60 {
				t.Errorf("checked only %d expressions", n)
			}
			t.Logf("%d expressions checked", n)
		})
	}
}

func mustMatchers(t *testing.T, selector string) []*labels.Matcher {
	t.Helper()
	ms, err := promqlParser.ParseMetricSelector("{" + selector + "}")
	if err != nil {
		t.Fatalf("selector %q: %v", selector, err)
	}
	return ms
}

// hasMatchers reports whether vs holds every matcher of want.
func hasMatchers(vs *parser.VectorSelector, want []*labels.Matcher) bool {
	for _, w := range want {
		if !slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool {
			return m.Name == w.Name && m.Type == w.Type && m.Value == w.Value
		}) {
			return false
		}
	}
	return true
}

func checkSelector(t *testing.T, where string, vs *parser.VectorSelector, vocode, exporter []*labels.Matcher) {
	t.Helper()
	switch {
	case vs.Name == "ALERTS":
		// Another team's rules write ALERTS too.
		if !hasMatchers(vs, exporter) && !hasMatchers(vs, vocode) {
			t.Errorf("%s: %s has neither vocodeExporterSelector %v nor vocodeSelector %v", where, vs, exporter, vocode)
		}
	case vs.Name == "up":
		if !hasMatchers(vs, exporter) && !hasMatchers(vs, vocode) {
			t.Errorf("%s: %s has neither vocodeExporterSelector %v nor vocodeSelector %v", where, vs, exporter, vocode)
		}
	case strings.HasPrefix(vs.Name, "vocode_exporter_"):
		if !hasMatchers(vs, exporter) {
			t.Errorf("%s: %s lacks vocodeExporterSelector %v", where, vs, exporter)
		}
	case strings.HasPrefix(vs.Name, "vocode_"), strings.Contains(vs.Name, ":"):
		// A recorded series holds the series of every rule set that records
		// its name: another team's rendering records the same names.
		if !hasMatchers(vs, vocode) {
			t.Errorf("%s: %s lacks vocodeSelector %v", where, vs, vocode)
		}
	}
}

// checkClusterFilter wants a regex matcher of the cluster label on the
// cluster variable (interpolated as __cluster__).
func checkClusterFilter(t *testing.T, where string, vs *parser.VectorSelector, cluster string) {
	t.Helper()
	if !slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool {
		return m.Name == cluster && m.Type == labels.MatchRegexp && strings.Contains(m.Value, "__cluster__")
	}) {
		t.Errorf("%s: %s does not filter %s=~\"$cluster\"", where, vs, cluster)
	}
}

// TestCallErrorThresholdMoves runs promtool test rules on two renderings:
// a 30% call error share fires VocodeCallErrorsHigh with the defaults and is
// quiet with callErrorShareThreshold 0.5 (testdata/call_error_share_*).
func TestCallErrorThresholdMoves(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	for _, tc := range []struct{ config, fixture string }{
		{"", "call_error_share_default_test.yml"},
		{customConfig, "call_error_share_custom_test.yml"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			r := renderMixin(t, tc.config)
			runPromtoolTest(t, promtool, filepath.Dir(r.rulesFile), tc.fixture)
		})
	}
}

// TestTwoTeams loads two renderings into one promtool run, as two teams'
// rules in one Prometheus: their selectors differ only in a namespace, and
// team a's alerts must stay quiet for team b's failing account
// (testdata/two_teams_test.yml). The recording rules of both write series
// of the same names, so it fails when an alert or a recording rule reads a
// recorded series without the selector, or a recording rule drops the
// selector's labels. Each team's dashboard alerts panel, with every
// variable on All, is queried there too: a's shows none of b's alerts.
func TestTwoTeams(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	dir := t.TempDir()
	var replace []string
	for _, team := range []string{"a", "b"} {
		sel := fmt.Sprintf(`'job="vocode", namespace="team-%s"'`, team)
		r := renderMixin(t, fmt.Sprintf(`{vocodeSelector: %s, vocodeExporterSelector: %s}`, sel, sel))
		rules, err := os.ReadFile(r.rulesFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, team+".rules.yml"), rules, 0o600); err != nil {
			t.Fatal(err)
		}
		panel := ""
		for _, q := range r.dashboard.Queries() {
			if strings.Contains(q.Expr, "ALERTS") {
				panel = mustInterpolate(t, q.Expr, map[string]string{"job": ".*", "instance": ".*", "account": ".*"})
			}
		}
		if panel == "" {
			t.Fatal("the dashboard has no query of ALERTS")
		}
		// YAML's single quotes hold it as it is (the panel has none).
		replace = append(replace, "ALERTS_PANEL_"+strings.ToUpper(team), "'"+panel+"'")
	}
	runPromtoolTest(t, promtool, dir, "two_teams_test.yml", replace...)
}

// runPromtoolTest copies testdata/fixture into dir, beside the rule files
// it names, and runs promtool test rules on it.
// Each pair of replace (old, new) is replaced in the fixture first.
func runPromtoolTest(t *testing.T, promtool, dir, fixture string, replace ...string) {
	t.Helper()
	test, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	test = []byte(strings.NewReplacer(replace...).Replace(string(test)))
	// promtool finds the rule files relative to the test file.
	path := filepath.Join(dir, fixture)
	if err := os.WriteFile(path, test, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
	if err != nil {
		t.Errorf("promtool test rules %s: %v\n%s", fixture, err, out)
	}
}

// operatorProbeConfig is mixin/README.md's Prometheus Operator example for
// probe mode: the two selectors select different jobs.
const operatorProbeConfig = `{vocodeSelector: 'job="vocode-accounts"',
	vocodeExporterSelector: 'job="vocode-exporter", namespace="monitoring"'}`

// TestProbeDown: with operatorProbeConfig, a probe that fails while the
// exporter is up fires VocodeExporterDown for that account's target
// (testdata/probe_down_test.yml).
func TestProbeDown(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	r := renderMixin(t, operatorProbeConfig)
	runPromtoolTest(t, promtool, filepath.Dir(r.rulesFile), "probe_down_test.yml")
}
