package dashboardtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	sdkprom "github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

var promqlParser = parser.NewParser(parser.Options{})

// cogErrors turns what the SDK returns into a plain list. The SDK returns
// its error list type even on success, as a typed nil inside a non-nil
// error interface, so `err != nil` would always be true: count instead.
func cogErrors(err error) []error {
	if err == nil {
		return nil
	}
	var list cog.BuildErrors
	if errors.As(err, &list) {
		out := make([]error, 0, len(list))
		for _, e := range list {
			out = append(out, e)
		}
		return out
	}
	return []error{err}
}

func loadForTest(t *testing.T) ([]byte, *Dashboard) {
	t.Helper()
	raw, d, err := readDashboard()
	if err != nil {
		t.Fatal(err)
	}
	return raw, d
}

// TestDashboardDecodesStrictly decodes the dashboard with the Foundation SDK
// in strict mode: unknown fields, wrong types and missing required fields
// anywhere (panel options and field config of each panel type, Prometheus
// queries, variables) are errors.
func TestDashboardDecodesStrictly(t *testing.T) {
	raw, _ := loadForTest(t)
	// Without the plugin registry, panel options and queries would decode
	// into untyped bags and escape the strict check.
	plugins.RegisterDefaultPlugins()

	// The SDK deprecates the classic model in favour of schema v2, but the
	// classic model is what Grafana imports from a file and what we ship.
	var d dashboard.Dashboard //nolint:staticcheck // classic JSON model on purpose, see above
	for _, err := range cogErrors(d.UnmarshalJSONStrict(raw)) {
		t.Errorf("strict decode: %v", err)
	}
	for _, err := range cogErrors(d.Validate()) {
		t.Errorf("validate: %v", err)
	}
	if d.SchemaVersion != 42 {
		t.Errorf("schemaVersion = %d, want 42", d.SchemaVersion)
	}

	// The SDK's own nested decoders trip over that typed nil: after a
	// successful strict decode of a panel, of its options or of a query they
	// return early and drop the value (real errors still come through
	// above). So check each panel again here, piece by piece.
	var rawDash struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &rawDash); err != nil {
		t.Fatal(err)
	}
	panels := 0
	for i, rp := range rawDash.Panels {
		var head struct {
			Type    string            `json:"type"`
			Title   string            `json:"title"`
			Targets []json.RawMessage `json:"targets"`
		}
		if err := json.Unmarshal(rp, &head); err != nil {
			t.Fatal(err)
		}
		if head.Type == "row" {
			var r dashboard.RowPanel
			for _, err := range cogErrors(r.UnmarshalJSONStrict(rp)) {
				t.Errorf("panels[%d] (row): %v", i, err)
			}
			continue
		}
		panels++
		var p dashboard.Panel
		for _, err := range cogErrors(p.UnmarshalJSONStrict(rp)) {
			t.Errorf("panels[%d]: %v", i, err)
		}
		// Options and field config are only checked strictly for panel
		// types the SDK knows; an unknown type would pass unchecked.
		if cfg, ok := cog.ConfigForPanelcfgVariant(head.Type); !ok || cfg.StrictOptionsUnmarshaler == nil {
			t.Errorf("panel %q: type %q is unknown to the SDK, so its options go unchecked", head.Title, head.Type)
		}
		// A query is checked strictly only when it names its datasource
		// type; decode each one as a Prometheus query to be sure.
		for j, rt := range head.Targets {
			var q sdkprom.Dataquery
			for _, err := range cogErrors(q.UnmarshalJSONStrict(rt)) {
				t.Errorf("panel %q target %d: %v", head.Title, j, err)
			}
			if q.Expr == "" || q.Datasource == nil || deref(q.Datasource.Type) != "prometheus" {
				t.Errorf("panel %q target %d: want a Prometheus query with an expr and datasource type prometheus", head.Title, j)
			}
		}
	}
	if panels == 0 {
		t.Fatal("no panels decoded")
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Grafana unit ids the dashboard may use; a typo would silently show raw
// numbers, so the unit rule checks against this list.
var knownUnits = []string{
	"none", "short", "percent", "percentunit", "s", "ms", "m", "reqps", "ops", "bool", "bool_yes_no",
}

// TestDashboardLint applies the rules of Grafana's dashboard-linter that
// matter here (the linter itself cannot be installed on this machine).
func TestDashboardLint(t *testing.T) {
	_, d := loadForTest(t)

	// uid-rule and general hygiene.
	if d.UID != dashboardUID {
		t.Errorf("uid = %q, want the fixed %q", d.UID, dashboardUID)
	}
	if d.Title == "" || len(d.Tags) == 0 {
		t.Errorf("title %q and tags %v must be set", d.Title, d.Tags)
	}
	if d.SchemaVersion != 42 {
		t.Errorf("schemaVersion = %d, want 42", d.SchemaVersion)
	}

	// template-datasource-rule, template-job-rule, template-instance-rule.
	vars := map[string]Variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if ds, ok := vars["datasource"]; !ok || ds.Type != "datasource" || ds.QueryString() != "prometheus" {
		t.Errorf("want a variable named datasource of type datasource for prometheus, got %+v", ds)
	}
	for _, name := range []string{"job", "instance", "account"} {
		v, ok := vars[name]
		if !ok {
			t.Errorf("variable %s is missing", name)
			continue
		}
		if v.Type != "query" || !isDatasourceVar(v.Datasource) {
			t.Errorf("variable %s: want a query variable on ${datasource}, got type %q datasource %+v", name, v.Type, v.Datasource)
		}
		sel, label, ok := parseLabelValues(v.QueryString())
		if !ok || label != name {
			t.Errorf("variable %s: query %q is not label_values(..., %s)", name, v.QueryString(), name)
			continue
		}
		if _, err := promqlParser.ParseExpr(mustInterpolate(t, sel, sentinelVars)); err != nil {
			t.Errorf("variable %s: selector %q: %v", name, sel, err)
		}
		if !v.IncludeAll {
			t.Errorf("variable %s: want an All option", name)
		}
	}

	ids := map[int]string{}
	var boxes []Panel
	for _, p := range d.AllPanels() {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v is outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		boxes = append(boxes, p)
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		// panel-title-description-rule
		if strings.TrimSpace(p.Description) == "" {
			t.Errorf("%s has no description", where)
		}
		// panel-units-rule
		if !slices.Contains(knownUnits, p.FieldConfig.Defaults.Unit) {
			t.Errorf("%s: unit %q is not one of %v", where, p.FieldConfig.Defaults.Unit, knownUnits)
		}
		// panel-datasource-rule and target-datasource-rule
		if !isDatasourceVar(p.Datasource) {
			t.Errorf("%s: datasource %+v, want {type: prometheus, uid: ${datasource}}", where, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s has no queries", where)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			w := where + " target " + tg.RefID
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: refId missing or repeated", w)
			}
			refs[tg.RefID] = true
			if !isDatasourceVar(tg.Datasource) {
				t.Errorf("%s: datasource %+v, want {type: prometheus, uid: ${datasource}}", w, tg.Datasource)
			}
			lintExpr(t, w, tg.Expr)
		}
	}

	// Overlapping panels render on top of each other.
	for i, a := range boxes {
		for _, b := range boxes[i+1:] {
			if a.GridPos.X < b.GridPos.X+b.GridPos.W && b.GridPos.X < a.GridPos.X+a.GridPos.W &&
				a.GridPos.Y < b.GridPos.Y+b.GridPos.H && b.GridPos.Y < a.GridPos.Y+a.GridPos.H {
				t.Errorf("panels %q and %q overlap", a.Title, b.Title)
			}
		}
	}
}

func isDatasourceVar(ds *DataSourceRef) bool {
	return ds != nil && ds.Type == "prometheus" && (ds.UID == "${datasource}" || ds.UID == "$datasource")
}

// Sentinels stand in for variables so that the parsed AST shows where each
// one went.
var sentinelVars = map[string]string{
	"job": "__job__", "instance": "__instance__", "account": "__account__",
}

const sentinelRateInterval = 1234 * time.Second

func mustInterpolate(t *testing.T, expr string, vars map[string]string) string {
	t.Helper()
	out, err := Interpolate(expr, vars)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rangeFuncs take a range vector whose window should follow Grafana's
// $__rate_interval, so that it is never shorter than a few scrapes.
var rangeFuncs = []string{"rate", "irate", "increase", "delta", "idelta", "deriv"}

// lintExpr parses a panel query with sentinels for the variables and
// checks target-rate-interval-rule, target-job-rule, target-instance-rule
// (plus the account variable) on the AST.
func lintExpr(t *testing.T, where, expr string) {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty expression", where)
		return
	}
	s := strings.ReplaceAll(expr, "$__rate_interval", model.Duration(sentinelRateInterval).String())
	s, err := Interpolate(s, sentinelVars)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	ast, err := promqlParser.ParseExpr(s)
	if err != nil {
		t.Errorf("%s: %v\n%s", where, err, s)
		return
	}
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.Call:
			if !slices.Contains(rangeFuncs, n.Func.Name) {
				break
			}
			for _, arg := range n.Args {
				if ms, ok := arg.(*parser.MatrixSelector); ok && ms.Range != sentinelRateInterval {
					t.Errorf("%s: %s() over [%s], want [$__rate_interval]", where, n.Func.Name, model.Duration(ms.Range))
				}
			}
		case *parser.VectorSelector:
			lintSelector(t, where, n)
		}
		return nil
	})
}

// Every exporter series is filtered by the three variables; ALERTS carries
// the account only for per-account alerts (those without, selected with
// account="", are the exporter's own). The exporter's own target (`up`
// and vocode_exporter_*) describes the process, not the selected accounts:
// in probe mode it is another job than the accounts' series, so the
// variables cannot select it; the mixin's vocodeExporterSelector does
// (TestSelectorsReachEveryExpression).
func lintSelector(t *testing.T, where string, vs *parser.VectorSelector) {
	t.Helper()
	want := []string{"job", "instance", "account"}
	switch {
	case vs.Name == "up" || strings.HasPrefix(vs.Name, "vocode_exporter_"):
		want = nil
	case vs.Name == "ALERTS" && slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool {
		return m.Name == "account" && m.Type == labels.MatchEqual && m.Value == ""
	}):
		// The alerts of the exporter's own target, which have no account:
		// like `up`, selected by vocodeExporterSelector alone.
		want = nil
	case vs.Name == "ALERTS":
		want = []string{"account"}
	}
	for _, name := range want {
		found := false
		for _, m := range vs.LabelMatchers {
			if m.Name == name && m.Type == labels.MatchRegexp && strings.Contains(m.Value, sentinelVars[name]) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: selector %s does not filter %s=~\"$%s\"", where, vs, name, name)
		}
	}
}

// The alert names are fixed by the issue that asked for them; renaming one
// breaks every silence and route that names it.
var wantAlerts = []string{
	"VocodeTwilioConnectionsMissing",
	"VocodeTwilioConnectionLost",
	"VocodeTwilioSteeringPoolEmpty",
	"VocodeScrapeFailing",
	"VocodeAPIErrorsHigh",
	"VocodeAPIRateLimited",
	"VocodeAPILatencyHigh",
	"VocodeExporterDown",
	"VocodeExporterRequestBudgetSaturated",
	"VocodeUsageNearLimit",
	"VocodeUsageLimitReached",
	"VocodeNumberConnectionMissing",
	"VocodeInboundNumberWithoutAgent",
	"VocodeConnectionsBelowExpected",
	"VocodeCollectorFailing",
	"VocodeCallErrorsHigh",
	"VocodeCallsNotConnecting",
	"VocodeWarmTransfersNearPoolLimit",
	"VocodeCallsTruncated",
}

const runbookBase = "https://github.com/vocode-exporter/vocode_exporter/blob/main/alerts/README.md#"

// level:metric:operations, the Prometheus naming convention for recording
// rules.
var recordNameRE = regexp.MustCompile(`^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$`)

// TestRuleFiles parses the rule files with Prometheus' own loader (which
// parses every expression) and checks what the runbook and routing rely on.
func TestRuleFiles(t *testing.T) {
	files, err := ruleFiles()
	if err != nil {
		t.Fatal(err)
	}
	anchors := runbookAnchors(t)
	seen := map[string]bool{}
	for _, f := range files {
		groups, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, promqlParser, nil)
		for _, err := range errs {
			t.Errorf("%s: %v", f, err)
		}
		if groups == nil {
			continue
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					if !recordNameRE.MatchString(r.Record) {
						t.Errorf("%s: recording rule %q is not named level:metric:operations", f, r.Record)
					}
					continue
				}
				seen[r.Alert] = true
				where := fmt.Sprintf("%s: alert %s", f, r.Alert)
				if s := r.Labels["severity"]; s != "critical" && s != "warning" {
					t.Errorf("%s: severity %q, want critical or warning", where, s)
				}
				for _, a := range []string{"summary", "description", "runbook_url"} {
					if strings.TrimSpace(r.Annotations[a]) == "" {
						t.Errorf("%s: annotation %s is missing", where, a)
					}
				}
				if !strings.Contains(r.Annotations["description"], "$labels.account") &&
					!strings.Contains(r.Annotations["description"], "$labels.instance") {
					t.Errorf("%s: description should name the account or instance", where)
				}
				url := r.Annotations["runbook_url"]
				anchor, ok := strings.CutPrefix(url, runbookBase)
				if !ok || !anchors[anchor] {
					t.Errorf("%s: runbook_url %q is not a section of alerts/README.md", where, url)
				}
			}
		}
	}
	for _, a := range wantAlerts {
		if !seen[a] {
			t.Errorf("alert %s is missing from %s", a, rulesGlob)
		}
	}
}

// runbookAnchors returns the anchors GitHub makes for the README's
// headings: lower case, punctuation dropped, spaces as hyphens.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(runbookPath)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		h = drop.ReplaceAllString(strings.ToLower(h), "")
		anchors[strings.ReplaceAll(h, " ", "-")] = true
	}
	return anchors
}

func TestInterpolate(t *testing.T) {
	vars := map[string]string{"account": "(a|b)", "job": "vocode"}
	got, err := Interpolate(`rate(x{job=~"$job", account=~"${account}", a=~"[[account]]"}[$__rate_interval])`, vars)
	if err != nil {
		t.Fatal(err)
	}
	want := `rate(x{job=~"vocode", account=~"(a|b)", a=~"(a|b)"}[1m])`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := Interpolate(`x{a=~"$acount"}`, vars); err == nil {
		t.Error("a misspelt variable must be an error")
	}
	if got := RegexAlternation([]string{"b", "a.c"}); got != `(a\\.c|b)` {
		t.Errorf("RegexAlternation = %s", got)
	}
}
