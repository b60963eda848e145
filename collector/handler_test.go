package collector

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// handlers returns the /metrics and /probe handlers over f's accounts,
// with the exporter's own metrics in reg.
func handlers(f *fixture, probeOnly bool) (metrics, probe http.Handler) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), NewExporterMetrics(f.accounts, nil))
	o := HandlerOpts{Accounts: f.accounts, Gatherer: reg, ProbeOnly: probeOnly,
		Timeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	return NewHandler(o), NewProbeHandler(o)
}

func get(h http.Handler, target string) (int, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// A probe serves every series of its account (gauges, counters, histogram)
// and nothing of any other account, nor the exporter's own metrics.
func TestProbeServesOneAccount(t *testing.T) {
	f := newFixture(t, "one", vocodetest.Dataset(2, 1))
	other := vocodetest.NewServer(vocodetest.Dataset(1, 1))
	t.Cleanup(other.Close)
	f.setConfig(t, entry("one", f.api), entry("two", other))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	_, probe := handlers(f, false)
	code, body := get(probe, "/probe?account=one")
	if code != http.StatusOK {
		t.Fatalf("probe answered %d: %s", code, body)
	}
	for _, want := range []string{
		`vocode_up{account="one"} 1`,
		`vocode_account_connections{account="one",type="twilio"} 2`,
		`vocode_api_requests_total{account="one",code="200",endpoint="account_connections_list"} 1`,
		`vocode_api_request_duration_seconds_count{account="one",endpoint="account_connections_list"} 1`,
		`vocode_scrape_errors_total{account="one",collector="connections",reason="timeout"} 0`,
		`vocode_scrape_duration_seconds{account="one"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("probe lacks %s", want)
		}
	}
	for _, unwanted := range []string{`account="two"`, "go_goroutines", "vocode_exporter_config_last_reload_successful"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("probe of one account serves %s", unwanted)
		}
	}
	if n := other.Stats().Requests; n != 0 {
		t.Errorf("probing one account walked the other (%d requests)", n)
	}
	if t.Failed() {
		t.Log(body)
	}
}

// Bad probes are a 400 with a one-line reason, and start no walk.
func TestProbeBadRequests(t *testing.T) {
	f := newFixture(t, "one", vocodetest.Dataset(1, 1))
	_, probe := handlers(f, false)
	tests := []struct{ target, reason string }{
		{"/probe", "give exactly one account: /probe?account=NAME"},
		{"/probe?account=", "give exactly one account"},
		{"/probe?account=one&account=one", "give exactly one account"},
		{"/probe?account=nope", `unknown account "nope": the configuration has no account of that name`},
		{"/probe?account=" + strings.Repeat("x", 200), `unknown account "` + strings.Repeat("x", 64) + `..."`},
		{"/probe?account=%3Cscript%3E%0A", `unknown account "<script>\n"`},
	}
	for _, tt := range tests {
		code, body := get(probe, tt.target)
		if code != http.StatusBadRequest || !strings.HasPrefix(body, tt.reason) || strings.Count(body, "\n") != 1 {
			t.Errorf("GET %s = %d %q, want 400 with one line starting %q", tt.target, code, body, tt.reason)
		}
	}
	if n := f.api.Stats().Requests; n != 0 {
		t.Errorf("bad probes made %d API requests", n)
	}
}

// After a reload removes an account, its probe is a 400.
func TestProbeRemovedAccount(t *testing.T) {
	f := newFixture(t, "one", vocodetest.Dataset(1, 1))
	_, probe := handlers(f, false)
	if code, body := get(probe, "/probe?account=one"); code != http.StatusOK {
		t.Fatalf("probe answered %d: %s", code, body)
	}
	f.setConfig(t, entry("renamed", f.api))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(probe, "/probe?account=one"); code != http.StatusBadRequest || !strings.Contains(body, "unknown account") {
		t.Errorf("probe of a removed account = %d %q, want 400", code, body)
	}
}

// In probe-only mode /metrics serves the exporter's own metrics and walks
// nothing; without it, it serves every account.
func TestMetricsProbeOnly(t *testing.T) {
	for _, probeOnly := range []bool{false, true} {
		f := newFixture(t, "one", vocodetest.Dataset(1, 1))
		metrics, _ := handlers(f, probeOnly)
		code, body := get(metrics, "/metrics")
		if code != http.StatusOK {
			t.Fatalf("probe-only %v: /metrics answered %d", probeOnly, code)
		}
		hasAccount := strings.Contains(body, `vocode_up{account="one"}`)
		if hasAccount == probeOnly {
			t.Errorf("probe-only %v: /metrics serves the account: %v", probeOnly, hasAccount)
		}
		for _, want := range []string{"go_goroutines", "vocode_exporter_config_last_reload_successful 1"} {
			if !strings.Contains(body, want) {
				t.Errorf("probe-only %v: /metrics lacks %s", probeOnly, want)
			}
		}
		if walked := f.api.Stats().Requests > 0; walked == probeOnly {
			t.Errorf("probe-only %v: the API was walked: %v", probeOnly, walked)
		}
	}
}

// The probe honours Prometheus' scrape timeout as /metrics does.
func TestProbeHonoursScrapeTimeout(t *testing.T) {
	f := newFixture(t, "one", vocodetest.Dataset(1, 1))
	f.api.AddFault(vocodetest.Fault{Hang: true})
	_, probe := handlers(f, false)
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/probe?account=one", nil)
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.5")
	w := httptest.NewRecorder()
	start := time.Now()
	probe.ServeHTTP(w, r)
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Errorf("probe took %v with a 0.5 s scrape timeout", took)
	}
	if !strings.Contains(w.Body.String(), `vocode_up{account="one"} 0`) {
		t.Errorf("probe of a hanging API:\n%s", w.Body.String())
	}
}
