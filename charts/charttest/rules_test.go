package charttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

// ruleSpec decodes a rules file (groups: ...) strictly as a PrometheusRule's spec.
func ruleSpec(t *testing.T, b []byte) monitoringv1.PrometheusRuleSpec {
	t.Helper()
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(b, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestPrometheusRule: the PrometheusRule's groups pass promtool, and are
// the rules rendered for the jobs of the chart's values; with the default
// jobs, they are alerts/vocode.rules.yml itself.
func TestPrometheusRule(t *testing.T) {
	promtool := e2e.RequireTool(t, "promtool")
	source, err := os.ReadFile(filepath.Join(root, RulesSource))
	if err != nil {
		t.Fatal(err)
	}
	var defaults, others int
	for _, c := range ciCases(t) {
		if !c.enabled("prometheusRule") {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			pr := only[monitoringv1.PrometheusRule](t, c, "PrometheusRule")
			if len(pr.Spec.Groups) == 0 {
				t.Fatal("no rule groups")
			}
			b, err := yaml.Marshal(pr.Spec)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "rules.yml")
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if out, err := exec.CommandContext(ctx, promtool, "check", "rules", file).CombinedOutput(); err != nil {
				t.Errorf("promtool check rules: %v\n%s", err, out)
			}

			jobs := c.jobs()
			want, err := Rules(jobs)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pr.Spec, ruleSpec(t, want)) {
				t.Errorf("the PrometheusRule's groups are not the rules rendered for jobs %+v", jobs)
			}
			if jobs == DefaultJobs {
				defaults++
				if !reflect.DeepEqual(pr.Spec, ruleSpec(t, source)) {
					t.Errorf("with the default jobs, the PrometheusRule's groups are not those of %s", RulesSource)
				}
			} else {
				others++
			}
		})
	}
	if defaults == 0 || others == 0 {
		t.Errorf("the ci values render the rules with the default jobs %d times and other jobs %d times: want both", defaults, others)
	}
}
