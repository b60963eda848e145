package charttest

import (
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// kinds are the objects the chart may render: their apiVersion, and a
// strict decoding into the type the API server and the Operator use.
var kinds = map[string]struct {
	apiVersion string
	decode     func([]byte) error
}{
	"Deployment":     {"apps/v1", strict[appsv1.Deployment]},
	"Service":        {"v1", strict[corev1.Service]},
	"ServiceAccount": {"v1", strict[corev1.ServiceAccount]},
	"ConfigMap":      {"v1", strict[corev1.ConfigMap]},
	"Secret":         {"v1", strict[corev1.Secret]},
	"ServiceMonitor": {"monitoring.coreos.com/v1", strict[monitoringv1.ServiceMonitor]},
	"PrometheusRule": {"monitoring.coreos.com/v1", strict[monitoringv1.PrometheusRule]},
	"ScrapeConfig":   {"monitoring.coreos.com/v1alpha1", strict[monitoringv1alpha1.ScrapeConfig]},
}

func strict[T any](b []byte) error {
	var obj T
	return yaml.UnmarshalStrict(b, &obj)
}

// TestCIValues: the cases the issue names each have a values file.
func TestCIValues(t *testing.T) {
	var names []string
	for _, c := range ciCases(t) {
		names = append(names, c.name)
	}
	for _, want := range []string{"default", "probe", "existing-secret", "tls", "calls"} {
		if !slices.Contains(names, want) {
			t.Errorf("no ci/%s-values.yaml (have %q)", want, names)
		}
	}
}

// TestStrictDecode: every object of every ci case is of a known kind and
// apiVersion and decodes strictly into its Go type.
func TestStrictDecode(t *testing.T) {
	for _, c := range ciCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if len(c.objects) == 0 {
				t.Fatal("renders nothing")
			}
			for _, m := range c.objects {
				k, ok := kinds[m.Kind]
				if !ok {
					t.Errorf("%s renders a %s, which this test does not know", m.Template, m.Kind)
					continue
				}
				var head struct {
					APIVersion string `json:"apiVersion"`
				}
				if err := yaml.Unmarshal([]byte(m.YAML), &head); err != nil || head.APIVersion != k.apiVersion {
					t.Errorf("%s %s: apiVersion %q, want %q (%v)", m.Kind, m.Name, head.APIVersion, k.apiVersion, err)
				}
				if err := k.decode([]byte(m.YAML)); err != nil {
					t.Errorf("%s %s (%s): %v", m.Kind, m.Name, m.Template, err)
				}
			}
		})
	}
}

// TestStrictDecodeRefusesUnknownFields: the decoding above would catch a
// misspelt or misplaced field.
func TestStrictDecodeRefusesUnknownFields(t *testing.T) {
	c := ciCases(t)[0]
	for _, m := range c.objects {
		if m.Kind != "Deployment" {
			continue
		}
		bad := strings.Replace(m.YAML, "\n  replicas: 1\n", "\n  replicas: 1\n  replica: 1\n", 1)
		if bad == m.YAML {
			t.Fatal("the Deployment has no `replicas: 1` to put a wrong field beside")
		}
		if err := kinds["Deployment"].decode([]byte(bad)); err == nil || !strings.Contains(err.Error(), "replica") {
			t.Errorf("a Deployment with an unknown field decoded: %v", err)
		}
		return
	}
	t.Fatal("no Deployment")
}
