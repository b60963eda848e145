package charttest

import (
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	"github.com/prometheus/common/model"
)

// minScrapeTimeout is the least scrape timeout that leaves the exporter
// time to walk an account's pages.
const minScrapeTimeout = 5 * time.Second

// checkIntervalAndTimeout wants both set, as Prometheus reads durations,
// the timeout below the interval and at least minScrapeTimeout.
func checkIntervalAndTimeout(t *testing.T, where string, interval, timeout *monitoringv1.Duration) {
	t.Helper()
	if interval == nil || timeout == nil {
		t.Errorf("%s: interval %v, scrape timeout %v: want both set", where, interval, timeout)
		return
	}
	iv, err1 := model.ParseDuration(string(*interval))
	to, err2 := model.ParseDuration(string(*timeout))
	if err1 != nil || err2 != nil {
		t.Errorf("%s: interval %q / scrape timeout %q are not Prometheus durations: %v %v", where, *interval, *timeout, err1, err2)
		return
	}
	if to >= iv {
		t.Errorf("%s: scrape timeout %v is not below the interval %v", where, to, iv)
	}
	if time.Duration(to) < minScrapeTimeout {
		t.Errorf("%s: scrape timeout %v leaves too little time to walk the API's pages (want at least %v)", where, to, minScrapeTimeout)
	}
}

// TestScrapeIntervalAndTimeout: every scrape object of every ci case
// times out below its interval, with time to walk the API.
func TestScrapeIntervalAndTimeout(t *testing.T) {
	checked := map[string]bool{}
	for _, c := range ciCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if c.has("ServiceMonitor") {
				sm := only[monitoringv1.ServiceMonitor](t, c, "ServiceMonitor")
				for _, ep := range sm.Spec.Endpoints {
					checkIntervalAndTimeout(t, "ServiceMonitor", &ep.Interval, &ep.ScrapeTimeout)
					checked["ServiceMonitor"] = true
				}
			}
			if c.has("ScrapeConfig") {
				sc := only[monitoringv1alpha1.ScrapeConfig](t, c, "ScrapeConfig")
				checkIntervalAndTimeout(t, "ScrapeConfig", sc.Spec.ScrapeInterval, sc.Spec.ScrapeTimeout)
				checked["ScrapeConfig"] = true
			}
		})
	}
	if !checked["ServiceMonitor"] || !checked["ScrapeConfig"] {
		t.Errorf("the ci cases render no ServiceMonitor or no ScrapeConfig to check: %v", checked)
	}
}

// TestScrapeTimeoutRefused: a scrape timeout not below its interval, in
// whatever spelling, fails the install naming both values; one just below
// is taken.
func TestScrapeTimeoutRefused(t *testing.T) {
	key := map[string]any{"existingSecret": "vocode-exporter"}
	scrape := func(interval, timeout string) map[string]any {
		return map[string]any{"enabled": true, "interval": interval, "scrapeTimeout": timeout}
	}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string // "" for taken
	}{
		{"serviceMonitor equal", map[string]any{"serviceMonitor": scrape("1m", "60s")}, "serviceMonitor.scrapeTimeout (60s) must be below serviceMonitor.interval (1m)"},
		{"serviceMonitor above", map[string]any{"serviceMonitor": scrape("30s", "1m")}, "serviceMonitor.scrapeTimeout (1m) must be below serviceMonitor.interval (30s)"},
		{"serviceMonitor in probe mode", map[string]any{"serviceMonitor": scrape("30s", "45s"), "probe": map[string]any{"enabled": true}}, "serviceMonitor.scrapeTimeout (45s)"},
		{"probe equal", map[string]any{"probe": scrape("1h", "3600s")}, "probe.scrapeTimeout (3600s) must be below probe.interval (1h)"},
		{"probe above by a millisecond", map[string]any{"probe": scrape("1m30s", "1m30s1ms")}, "probe.scrapeTimeout (1m30s1ms)"},
		{"just below", map[string]any{"serviceMonitor": scrape("1m30s", "1m29s999ms"), "probe": scrape("2m", "119s")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.values["apiKey"] = key
			_, err := Render(loadChart(t), tc.values)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("taken, want an error naming %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("the error does not say %q:\n%v", tc.want, err)
			}
		})
	}
}
