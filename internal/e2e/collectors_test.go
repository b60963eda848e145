package e2e_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// echoedToken is shaped like a Twilio auth token (32 hex digits), as an API
// error could quote one: redaction must catch it by its shape.
const echoedToken = "5f0c1e2d3b4a59687766554433221100"

// collectorSeries are the series each of the usage, numbers, agents and
// calls collectors exports when it succeeds, and must not export when it fails.
var collectorSeries = map[string][]string{
	"usage":   {"vocode_usage_minutes", "vocode_usage_limit_minutes", "vocode_plan_info"},
	"numbers": {"vocode_numbers", "vocode_number_info", "vocode_number_active", "vocode_number_outbound_only", "vocode_number_inbound_agent"},
	"agents":  {"vocode_agents", "vocode_agent_info"},
	"calls": {"vocode_calls", "vocode_call_stage_outcomes", "vocode_calls_in_progress", "vocode_calls_window_seconds",
		"vocode_calls_truncated", "vocode_call_last_start_timestamp_seconds", "vocode_calls_undated", "vocode_calls_unstarted_truncated"},
}

// TestCollectorFaults runs faults of the usage, numbers, agents and calls endpoints
// against the binary. Each case checks that only the faulted collector
// fails: its success 0, its reason counted once under its name, none of its
// series, one error line, while vocode_up, the connection series and the
// other collectors stay whole; then that it recovers. The numbers embed
// Twilio connections with canary credentials, and the calls carry the
// canary in their transcripts, callers' numbers, error messages and
// embedded credentials, and the agents in their prompts, initial messages,
// webhook URLs and OpenAI keys: none of it may ever come out.
func TestCollectorFaults(t *testing.T) {
	bin := e2e.Build(t)
	retryAfter0 := http.Header{"Retry-After": {"0"}}
	type faultCase struct {
		name      string
		collector string
		fault     vocodetest.Fault
		reason    vocode.Reason
	}
	var cases []faultCase
	for _, c := range []struct{ collector, endpoint string }{
		{"usage", vocodetest.EndpointUsage}, {"numbers", vocodetest.EndpointNumbers}, {"agents", vocodetest.EndpointAgents},
		{"calls", vocodetest.EndpointCalls},
	} {
		for _, f := range []struct {
			name   string
			fault  vocodetest.Fault
			reason vocode.Reason
		}{
			{"401", vocodetest.Fault{Status: http.StatusUnauthorized}, vocode.ReasonAuth},
			{"500 echoing a credential", vocodetest.Fault{Status: http.StatusInternalServerError,
				Body: `{"detail":"boom near twilio token ` + echoedToken + `"}`}, vocode.ReasonServerError},
			{"429", vocodetest.Fault{Status: http.StatusTooManyRequests, Header: retryAfter0}, vocode.ReasonRateLimited},
			{"broken body", vocodetest.Fault{Handler: vocodetest.Raw(http.StatusOK, "application/json", `{"items":[`)}, vocode.ReasonDecode},
			{"hang", vocodetest.Fault{Hang: true}, vocode.ReasonTimeout},
		} {
			f.fault.Endpoint = c.endpoint
			cases = append(cases, faultCase{c.collector + " " + f.name, c.collector, f.fault, f.reason})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, tc := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(tc.name, func(t *testing.T) {
				conns := vocodetest.WithCredentials(vocodetest.Dataset(3, 2), canaryCred)
				fake := vocodetest.NewServer(conns, vocodetest.WithAPIKey(canaryKey),
					vocodetest.WithNumbers(vocodetest.Numbers(6, conns)),
					vocodetest.WithUsage(vocodetest.Usage{Plan: "plan_enterprise", Minutes: 10, LimitMinutes: 100, HasLimit: true}),
					vocodetest.WithAgents(vocodetest.WithAgentSecrets(vocodetest.Agents(6), canaryCred)),
					vocodetest.WithCalls(vocodetest.WithCallSecrets(vocodetest.Calls(40, time.Now(), 10*time.Minute, 2000, conns), canaryCred)))
				t.Cleanup(fake.Close)
				dir := t.TempDir()
				cfg := filepath.Join(dir, "config.yml")
				writeConfig(t, cfg, account{accountName, fake.URL, writeFile(t, dir, "victim.key", canaryKey)})
				exp := e2e.Start(t, bin, e2e.Options{Args: []string{"--config.file=" + cfg, "--log.level=debug", "--vocode.timeout=2s", "--collector.calls", "--collector.calls.by-agent"}})

				fake.AddFault(tc.fault)
				body, mfs := scrape(t, exp)
				assertNoSecrets(t, "/metrics", body)
				checkCollectors(t, mfs, tc.collector)
				if got := mustValue(t, mfs, "vocode_scrape_errors_total", "account", accountName, "collector", tc.collector, "reason", string(tc.reason)); got != 1 {
					t.Errorf("errors{collector=%s, reason=%s} = %v, want 1", tc.collector, tc.reason, got)
				}
				lines := waitLines(exp, 1, `msg="collector failed"`, "collector="+tc.collector, "reason="+string(tc.reason))
				if len(lines) != 1 || levelOf(lines[0]) != "ERROR" {
					t.Errorf("want one error line for the %s collector, got %q", tc.collector, lines)
				}
				if n := len(logLines(exp.Logs(), `msg="collector failed"`)); n != 1 {
					t.Errorf("%d failure lines, want the one of the faulted collector", n)
				}

				if strings.Contains(exp.Logs(), echoedToken) || strings.Contains(body, echoedToken) {
					t.Errorf("a credential the API echoed in an error reached the log or the metrics")
				}
				fake.ClearFaults()
				_, mfs = scrape(t, exp)
				checkCollectors(t, mfs, "")
				if len(waitLines(exp, 1, `msg="collector succeeds again"`, "collector="+tc.collector)) != 1 {
					t.Errorf("the %s collector's recovery was not logged", tc.collector)
				}
				assertProcessClean(t, exp)
			})
		})
	}
	wg.Wait()
}

// checkCollectors checks that failing (usage, numbers, agents, calls, or "" for none) is the
// only collector that failed, and that every other part of the scrape is
// whole.
func checkCollectors(t *testing.T, mfs map[string]*dto.MetricFamily, failing string) {
	t.Helper()
	mustUp(t, mfs, accountName, 1)
	if n := len(labelValues(mfs, "vocode_account_connection_info", accountName, "connection_id")); n != 5 {
		t.Errorf("%d connections exported, want 5", n)
	}
	for _, c := range []string{"connections", "usage", "numbers", "agents", "calls"} {
		want := 1.0
		if c == failing {
			want = 0
		}
		if got := mustValue(t, mfs, "vocode_scrape_collector_success", "account", accountName, "collector", c); got != want {
			t.Errorf("collector_success{collector=%s} = %v, want %v", c, got, want)
		}
		for _, name := range collectorSeries[c] {
			if exported := len(series(mfs, name, "account", accountName)) > 0; exported == (c == failing) {
				t.Errorf("%s exported: %v, with the %s collector failing: %v", name, exported, c, c == failing)
			}
		}
	}
	// A number on a connection that is gone is still a number: its
	// connection_id stays as the API gave it.
	if failing != "numbers" {
		ids := strings.Join(labelValues(mfs, "vocode_number_info", accountName, "connection_id"), ",")
		if !strings.Contains(ids, "d0000003-") {
			t.Errorf("the number whose connection is gone lost its connection_id: %s", ids)
		}
	}
}

// A slow numbers list does not hold back vocode_up past the scrape: the
// collectors share the walk's deadline, and a timeout there is the numbers
// collector's alone.
func TestSlowCollectorLeavesUpAlone(t *testing.T) {
	bin := e2e.Build(t)
	conns := vocodetest.Dataset(2, 1)
	fake := vocodetest.NewServer(conns, vocodetest.WithAPIKey(canaryKey), vocodetest.WithNumbers(vocodetest.Numbers(3, conns)))
	t.Cleanup(fake.Close)
	fake.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointNumbers, Delay: 5 * time.Second})
	exp := e2e.Start(t, bin, e2e.Options{
		Args: []string{"--vocode.url=" + fake.URL, "--vocode.timeout-offset=0.1s"},
		Env:  []string{"VOCODE_API_KEY=" + canaryKey},
	})
	start := time.Now()
	mfs := scrapeTimeout(t, exp, "1")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the scrape took %v with a 1 s timeout", took)
	}
	mustUp(t, mfs, "default", 1)
	if got := mustValue(t, mfs, "vocode_scrape_collector_success", "account", "default", "collector", "numbers"); got != 0 {
		t.Errorf("numbers collector_success = %v, want 0", got)
	}
	if got := mustValue(t, mfs, "vocode_scrape_errors_total", "account", "default", "collector", "numbers", "reason", "timeout"); got != 1 {
		t.Errorf("numbers timeouts = %v, want 1", got)
	}
}
