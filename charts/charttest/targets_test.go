package charttest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/promql/parser"
	yaml2 "go.yaml.in/yaml/v2"
	corev1 "k8s.io/api/core/v1"
)

var promqlParser = parser.NewParser(parser.Options{})

// relabelConfigs turns the Operator's relabellings into Prometheus' own,
// through the YAML Prometheus reads (with its defaults), as the Operator
// writes them into the configuration.
func relabelConfigs(t *testing.T, rcs []monitoringv1.RelabelConfig) []*relabel.Config {
	t.Helper()
	var out []*relabel.Config
	for _, rc := range rcs {
		m := map[string]any{}
		if len(rc.SourceLabels) > 0 {
			m["source_labels"] = rc.SourceLabels
		}
		if rc.Separator != nil {
			m["separator"] = *rc.Separator
		}
		if rc.TargetLabel != "" {
			m["target_label"] = rc.TargetLabel
		}
		if rc.Regex != "" {
			m["regex"] = rc.Regex
		}
		if rc.Modulus != 0 {
			m["modulus"] = rc.Modulus
		}
		if rc.Replacement != nil {
			m["replacement"] = *rc.Replacement
		}
		if rc.Action != "" {
			m["action"] = strings.ToLower(rc.Action)
		}
		b, err := yaml2.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var c relabel.Config
		if err := yaml2.UnmarshalStrict(b, &c); err != nil {
			t.Fatalf("relabelling %s: %v", b, err)
		}
		c.NameValidationScheme = model.UTF8Validation
		if err := c.Validate(model.UTF8Validation); err != nil {
			t.Fatalf("relabelling %s: %v", b, err)
		}
		out = append(out, &c)
	}
	return out
}

// target is a scrape target after relabelling: what Prometheus scrapes and
// the labels its series get.
type target struct {
	from   string
	labels labels.Labels
}

// relabelTarget applies the relabellings to a discovered target as
// Prometheus does, and gives it an instance from its address when the
// relabelling set none. false: dropped.
func relabelTarget(from string, discovered map[string]string, rcs []*relabel.Config) (target, bool) {
	lb := labels.NewBuilder(labels.FromMap(discovered))
	if !relabel.ProcessBuilder(lb, rcs...) {
		return target{}, false
	}
	if lb.Get(model.InstanceLabel) == "" {
		lb.Set(model.InstanceLabel, lb.Get(model.AddressLabel))
	}
	return target{from: from, labels: lb.Labels()}, true
}

// scrapeTargets are the targets the chart's scrape objects give Prometheus
// for one pod of the exporter. The Operator's own relabelling is reduced to
// what decides these labels: a ServiceMonitor's endpoint keeps the
// endpoints of its port and takes the job from the Service's name before
// the endpoint's relabellings; a ScrapeConfig's jobName sets the job before
// its relabellings.
func scrapeTargets(t *testing.T, c ciCase) []target {
	t.Helper()
	var out []target
	if c.has("ServiceMonitor") {
		svc := only[corev1.Service](t, c, "Service")
		sm := only[monitoringv1.ServiceMonitor](t, c, "ServiceMonitor")
		for i, ep := range sm.Spec.Endpoints {
			operator := []monitoringv1.RelabelConfig{
				{SourceLabels: []monitoringv1.LabelName{"__meta_kubernetes_endpoint_port_name"}, Regex: ep.Port, Action: "keep"},
				{SourceLabels: []monitoringv1.LabelName{"__meta_kubernetes_service_name"}, TargetLabel: "job"},
			}
			discovered := map[string]string{
				model.AddressLabel:                     "10.1.2.3:10401",
				model.JobLabel:                         fmt.Sprintf("serviceMonitor/%s/%s/%d", sm.Namespace, sm.Name, i),
				model.MetricsPathLabel:                 ep.Path,
				"__meta_kubernetes_service_name":       svc.Name,
				"__meta_kubernetes_namespace":          svc.Namespace,
				"__meta_kubernetes_endpoint_port_name": svc.Spec.Ports[0].Name,
				model.SchemeLabel:                      scheme(ep.Scheme),
			}
			if tg, ok := relabelTarget("ServiceMonitor", discovered, relabelConfigs(t, append(operator, ep.RelabelConfigs...))); ok {
				out = append(out, tg)
			}
		}
	}
	if c.has("ScrapeConfig") {
		sc := only[monitoringv1alpha1.ScrapeConfig](t, c, "ScrapeConfig")
		var operator []monitoringv1.RelabelConfig
		if sc.Spec.JobName != nil {
			operator = append(operator, monitoringv1.RelabelConfig{TargetLabel: "job", Replacement: sc.Spec.JobName})
		}
		rcs := relabelConfigs(t, append(operator, sc.Spec.RelabelConfigs...))
		for _, group := range sc.Spec.StaticConfigs {
			for _, addr := range group.Targets {
				discovered := map[string]string{
					model.AddressLabel:     string(addr),
					model.JobLabel:         fmt.Sprintf("scrapeConfig/%s/%s", sc.Namespace, sc.Name),
					model.MetricsPathLabel: *sc.Spec.MetricsPath,
					model.SchemeLabel:      scheme(sc.Spec.Scheme),
				}
				for k, v := range group.Labels {
					discovered[k] = v
				}
				if tg, ok := relabelTarget("ScrapeConfig", discovered, rcs); ok {
					out = append(out, tg)
				}
			}
		}
	}
	return out
}

// scheme is the scheme Prometheus scrapes with for a scrape object's.
func scheme(s *monitoringv1.Scheme) string {
	if s == nil {
		return "http"
	}
	return strings.ToLower(string(*s))
}

// accountNames are the accounts the exporter is configured with.
func accountNames(c ciCase) []string {
	accounts, _ := c.value("accounts").([]any)
	if len(accounts) == 0 {
		return []string{"default"}
	}
	var names []string
	for _, a := range accounts {
		names = append(names, a.(map[string]any)["name"].(string))
	}
	return names
}

// selector is a series selector of a rule or a dashboard query.
type selector struct {
	where    string
	metric   string
	matchers []*labels.Matcher
}

// matches reports whether a target's series can match the selector: its
// matchers of the labels a target gives every series (job, instance) match
// the target's. The other matchers are on the series' own labels.
func (s selector) matches(lbls labels.Labels) bool {
	for _, m := range s.matchers {
		if (m.Name == model.JobLabel || m.Name == model.InstanceLabel) && !m.Matches(lbls.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (s selector) hasJob() bool {
	for _, m := range s.matchers {
		if m.Name == model.JobLabel {
			return true
		}
	}
	return false
}

// selectors lists the vector selectors of a PromQL expression.
func selectors(t *testing.T, where, expr string) []selector {
	t.Helper()
	ast, err := promqlParser.ParseExpr(expr)
	if err != nil {
		t.Fatalf("%s: %v\n%s", where, err, expr)
	}
	var out []selector
	parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, selector{where: where, metric: vs.Name, matchers: vs.LabelMatchers})
		}
		return nil
	})
	return out
}

// TestScrapeTargets: relabelled by Prometheus' own code, the chart's scrape
// objects give the targets the rules and the dashboard expect: in the
// /metrics mode one target of the accounts' job; in probe mode one target
// per account, /probe?account=NAME through the Service with the account as
// the instance, and the exporter's own target under the exporter's job.
// Every job the rules select is one of these, and every target is watched
// by the rules' `up` selectors.
func TestScrapeTargets(t *testing.T) {
	for _, c := range ciCases(t) {
		t.Run(c.name, func(t *testing.T) {
			jobs := c.jobs()
			targets := scrapeTargets(t, c)
			var accountTargets, exporterTargets []target
			probe := c.enabled("probe")
			if probe {
				svc := only[corev1.Service](t, c, "Service")
				address := fmt.Sprintf("%s.%s.svc:%d", svc.Name, svc.Namespace, svc.Spec.Ports[0].Port)
				want := map[string]bool{}
				for _, a := range accountNames(c) {
					want[a] = true
				}
				for _, tg := range targets {
					l := tg.labels
					if tg.from == "ServiceMonitor" {
						exporterTargets = append(exporterTargets, tg)
						if l.Get(model.JobLabel) != jobs.Exporter {
							t.Errorf("the exporter's own target has job %q, want %q", l.Get(model.JobLabel), jobs.Exporter)
						}
						continue
					}
					accountTargets = append(accountTargets, tg)
					a := l.Get("__param_account")
					if !want[a] {
						t.Errorf("a probe of account %q, which the exporter is not configured with", a)
					}
					delete(want, a)
					if l.Get(model.InstanceLabel) != a || l.Get(model.JobLabel) != jobs.Accounts ||
						l.Get(model.AddressLabel) != address || l.Get(model.MetricsPathLabel) != "/probe" {
						t.Errorf("account %s is scraped as %v, want job %s, instance %s, %s/probe", a, l, jobs.Accounts, a, address)
					}
				}
				if len(want) > 0 {
					t.Errorf("no probe of accounts %v", want)
				}
				if len(exporterTargets) != 1 {
					t.Errorf("%d targets of the exporter's own metrics, want 1", len(exporterTargets))
				}
			} else {
				for _, tg := range targets {
					l := tg.labels
					if l.Get(model.JobLabel) != jobs.Accounts || l.Get(model.MetricsPathLabel) != "/metrics" || l.Get(model.InstanceLabel) == "" {
						t.Errorf("the exporter is scraped as %v, want job %s at /metrics", l, jobs.Accounts)
					}
				}
				// One target carries the accounts' and the exporter's series.
				accountTargets, exporterTargets = targets, targets
			}
			if len(accountTargets) == 0 {
				t.Fatal("no target scrapes the accounts")
			}
			wantScheme := "http"
			if c.value("webConfig.tls.existingSecret") != "" {
				wantScheme = "https"
			}
			for _, tg := range targets {
				if got := tg.labels.Get(model.SchemeLabel); got != wantScheme {
					t.Errorf("the %s target is scraped with %s, the exporter serves %s", tg.from, got, wantScheme)
				}
			}

			rules, err := Rules(jobs)
			if err != nil {
				t.Fatal(err)
			}
			var sels []selector
			for _, g := range ruleSpec(t, rules).Groups {
				for _, r := range g.Rules {
					sels = append(sels, selectors(t, g.Name+"/"+r.Alert+r.Record, r.Expr.String())...)
				}
			}
			watched := map[string]bool{}
			for _, s := range sels {
				if !s.hasJob() {
					continue
				}
				var must []target
				switch {
				case s.metric == "up":
					for _, tg := range targets {
						if s.matches(tg.labels) {
							watched[tg.labels.String()] = true
						}
					}
				case strings.HasPrefix(s.metric, "vocode_exporter_"):
					must = exporterTargets
				case strings.HasPrefix(s.metric, "vocode_"):
					must = accountTargets
				}
				for _, tg := range must {
					if !s.matches(tg.labels) {
						t.Errorf("%s selects %s%v, which the %s target %v does not match", s.where, s.metric, s.matchers, tg.from, tg.labels)
					}
				}
			}
			for _, tg := range targets {
				if !watched[tg.labels.String()] {
					t.Errorf("no `up` selector of the rules matches the %s target %v: its failures would not alert", tg.from, tg.labels)
				}
			}

			// The dashboard's variables list the jobs and instances of
			// the accounts' series.
			for _, v := range dashboardVariables(t, jobs) {
				for _, s := range selectors(t, "dashboard variable "+v.name, v.selector) {
					for _, tg := range accountTargets {
						if !s.matches(tg.labels) {
							t.Errorf("the dashboard's variable %s selects %s, which the accounts' target %v does not match", v.name, v.selector, tg.labels)
						}
					}
				}
			}
		})
	}
}

// labelValues reads Grafana's label_values(SELECTOR, LABEL).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(job|instance)\)$`)
