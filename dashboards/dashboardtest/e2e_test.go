package dashboardtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// The accounts the exporter walks in the end-to-end test, each behind its
// own fake Vocode API: between them, every alert has an account to fire for
// and every panel something to show.
type fakeAccount struct {
	name     string
	conns    []vocodetest.Connection
	numbers  int              // phone numbers, from vocodetest.Numbers
	usage    vocodetest.Usage // the default: a developer plan without a limit
	expected string           // expected_connections, in YAML flow style
	faults   []vocodetest.Fault
	calls    []vocodetest.Call // the calls list, started relative to the test's start
}

// testStart is the time the fake calls started relative to.
var testStart = time.Now()

// notConnecting are finished calls half of which did not connect, and one
// warm transfer in progress: enough for VocodeCallsNotConnecting and, with
// a steering pool of one number, VocodeWarmTransfersNearPoolLimit.
func notConnecting() []vocodetest.Call {
	calls := []vocodetest.Call{{ID: "transfer", Status: "in_progress", Stage: "transfer_started", Start: testStart.Add(-time.Minute)}}
	for i := range 20 {
		outcome := "call_did_not_connect"
		if i%2 == 1 {
			outcome = "human_disconnected"
		}
		calls = append(calls, vocodetest.Call{ID: vocodetest.ID("s", i), Status: "ended", Stage: "picked_up",
			Outcome: outcome, Start: testStart.Add(-time.Duration(i+2) * time.Minute)})
	}
	return calls
}

var fakeAccounts = []fakeAccount{
	// Twilio connection 0 of a dataset has an empty steering pool; the
	// numbers include one whose connection is gone and one without an
	// agent; 6 Twilio connections of the 8 expected.
	// 250 calls over 10 minutes: more than the exporter's two pages of
	// 100 (--collector.calls.max-pages=2), a seventh of the finished ones
	// in error, a dozen warm transfers in progress against pools of 7.
	{name: "prod", conns: vocodetest.Dataset(6, 3), numbers: 6, expected: "{twilio: 8, openai: 3}",
		usage: vocodetest.Usage{Plan: "plan_enterprise", Minutes: 420, LimitMinutes: 10000, HasLimit: true},
		calls: vocodetest.Calls(250, testStart, 10*time.Minute, 500, vocodetest.Dataset(6, 3))},
	{name: "staging", conns: vocodetest.Dataset(2, 1), numbers: 2,
		usage: vocodetest.Usage{Plan: "plan_developer", Minutes: 950, LimitMinutes: 1000, HasLimit: true},
		calls: notConnecting()},
	// Answers, but has no Twilio connection at all; its minutes are used
	// up, and its numbers list fails.
	{name: "notwilio", conns: vocodetest.Dataset(0, 2),
		usage:  vocodetest.Usage{Plan: "plan_free", Minutes: 1200, LimitMinutes: 1000, HasLimit: true},
		faults: []vocodetest.Fault{{Endpoint: vocodetest.EndpointNumbers, Status: http.StatusInternalServerError}}},
	// The connection list fails; its numbers, whose connections therefore
	// go unlisted, must not read as connections gone.
	{name: "broken", conns: vocodetest.Dataset(1, 0), numbers: 2,
		faults: []vocodetest.Fault{{Status: http.StatusInternalServerError}}},
	{name: "limited", conns: vocodetest.Dataset(1, 0), faults: []vocodetest.Fault{{
		Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"0"}},
	}}},
}

// scrapeModes are the two ways Prometheus can scrape the exporter, as the
// README's "Many accounts" section describes them. Every dashboard query and
// rule must work in both.
var scrapeModes = []struct {
	name string
	// native turns native histograms on in Prometheus, as
	// nativeHistogramSetup says for its version.
	native bool
	// exporterArgs are added to the exporter's flags.
	exporterArgs []string
	// scrapeConfigs returns Prometheus' scrape_configs for an exporter at
	// target, with a file_sd file of account names at sdFile.
	scrapeConfigs func(target, sdFile string) string
	// probeAccounts are written to the file_sd file: the exporter's
	// accounts, and one it does not know.
	probeAccounts []string
}{
	{
		name: "metrics",
		scrapeConfigs: func(target, _ string) string {
			return fmt.Sprintf(`
  - job_name: vocode
    static_configs:
      - targets: [%q]
`, target)
		},
	},
	{
		name:         "probe",
		exporterArgs: []string{"--web.probe-only"},
		// One target per account, relabelled into /probe?account=NAME;
		// a second job scrapes the exporter's own metrics.
		scrapeConfigs: func(target, sdFile string) string {
			return probeJob("vocode", sdFile, target) + fmt.Sprintf(`
  - job_name: vocode_exporter
    static_configs:
      - targets: [%q]
`, target)
		},
		probeAccounts: append(accountNames(), "ghost"),
	},
	{
		// /metrics again, with native histograms ingested: the latency
		// histogram must arrive as one, and (where Prometheus can keep
		// them beside it) the classic buckets the dashboard reads too.
		name:   "native",
		native: true,
		scrapeConfigs: func(target, _ string) string {
			return fmt.Sprintf(`
  - job_name: vocode
    static_configs:
      - targets: [%q]
`, target)
		},
	},
}

// probeJob is a scrape config of one /probe?account=NAME target per
// account named in sdFile, all scraping the exporter at target.
func probeJob(job, sdFile, target string) string {
	return fmt.Sprintf(`
  - job_name: %s
    metrics_path: /probe
    file_sd_configs:
      - files: [%q]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_account
      - source_labels: [__param_account]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, job, sdFile, target)
}

func accountNames() []string {
	names := make([]string, 0, len(fakeAccounts))
	for _, a := range fakeAccounts {
		names = append(names, a.name)
	}
	return names
}

// TestEndToEnd runs the real exporter against fake Vocode APIs, scraped by a
// real Prometheus every second with the rule files loaded, once per scrape
// mode, and proves that every dashboard query returns data and every rule
// evaluates.
func TestEndToEnd(t *testing.T) {
	t.Parallel() // beside TestEndToEndCustomConfig and TestShards: all mostly wait
	promBin := findPrometheus(t)
	if testing.Short() && os.Getenv(e2e.RequireEnv) != "1" {
		t.Skip("end-to-end test skipped in -short mode")
	}
	_, dash, err := readDashboard()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ruleFiles()
	if err != nil {
		t.Fatal(err)
	}
	promVer := prometheusVersion(t, promBin)
	for _, mode := range scrapeModes {
		t.Run(mode.name, func(t *testing.T) {
			var native nativeSetup
			if mode.native {
				if native = nativeHistogramSetup(promVer); !native.supported {
					t.Skipf("Prometheus %d.%d has no native histograms (2.40 and later have)", promVer[0], promVer[1])
				}
				t.Logf("Prometheus %d.%d.%d: native histograms with flags %q and scrape config %q", promVer[0], promVer[1], promVer[2], native.flags, native.scrapeConfig)
			}
			t.Parallel()
			exporter := startExporter(t, mode.exporterArgs...)
			sdFile := filepath.Join(t.TempDir(), "accounts.json")
			sd := jsonString([]map[string][]string{{"targets": mode.probeAccounts}})
			if err := os.WriteFile(sdFile, []byte(sd), 0o600); err != nil {
				t.Fatal(err)
			}
			prom := startPrometheus(t, promBin, native.apply(mode.scrapeConfigs(exporter.Addr, sdFile)), rules, native.flags...)
			if mode.native {
				checkNativeHistograms(t, prom, native)
				if !native.classicKept {
					return
				}
			}
			checkDashboardAndRules(t, prom, dash, rules, `job="vocode"`)

			// What the alerts make of the real exporter's series: the
			// accounts whose walks fail are scrape failures, not missing
			// Twilio connections. In probe mode, the probe of an account
			// the exporter does not know fails: that target is down.
			down := []string(nil)
			if mode.name == "probe" {
				down = []string{"ghost"}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			checkAlerts(ctx, t, prom, "account", accountAlerts())
			checkAlerts(ctx, t, prom, "instance", map[string][]string{"VocodeExporterDown": down})
		})
	}
}

// accountAlerts are the accounts of fakeAccounts each per-account alert
// is active for with the rules' default thresholds.
func accountAlerts() map[string][]string {
	return map[string][]string{
		"VocodeTwilioConnectionsMissing":   {"notwilio"},
		"VocodeScrapeFailing":              {"broken", "limited"},
		"VocodeTwilioSteeringPoolEmpty":    {"prod", "staging"},
		"VocodeTwilioConnectionLost":       nil,
		"VocodeConnectionsBelowExpected":   {"prod"},
		"VocodeUsageNearLimit":             {"notwilio", "staging"},
		"VocodeUsageLimitReached":          {"notwilio"},
		"VocodeNumberConnectionMissing":    {"prod"},
		"VocodeInboundNumberWithoutAgent":  {"broken", "prod", "staging"},
		"VocodeCollectorFailing":           {"notwilio"},
		"VocodeCallErrorsHigh":             {"prod"}, // a seventh of prod's finished calls in error
		"VocodeCallsNotConnecting":         {"staging"},
		"VocodeWarmTransfersNearPoolLimit": {"prod", "staging"},
		"VocodeCallsTruncated":             {"prod"},
		"VocodeShortCallsHigh":             nil,
		"VocodeAgentCallErrorsHigh":        {"prod"}, // vocodetest.Calls' broken agent
	}
}

// checkDashboardAndRules waits for a few scrapes of every account (their
// vocode_up series under accounts, a selector) and an evaluation of every
// rule, then checks that every panel query and recording rule returns data.
// It returns the variables' values.
func checkDashboardAndRules(t *testing.T, prom *prometheus, dash *Dashboard, rules []string, accounts string) map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// "Has data": a few scrapes of every account and one evaluation of
	// every rule. Rules report health "unknown" until evaluated.
	waitFor(ctx, t, "five scrapes of every account", func() error {
		return prom.expectCount(ctx, fmt.Sprintf(`count_over_time(vocode_up{%s}[1m]) >= 5`, accounts), len(fakeAccounts))
	})
	waitFor(ctx, t, "every rule evaluated and healthy", func() error {
		return prom.rulesHealthy(ctx, rules)
	})

	vars := resolveVariables(ctx, t, prom, dash)
	if got, want := vars["account"], RegexAlternation(accountNames()); got != want {
		t.Errorf("account variable = %s, want every configured account %s", got, want)
	}

	// Every panel query, and every recording rule, must return something.
	// A short grace covers a rate() or an alert that needs one more scrape
	// or evaluation; a query naming a series the exporter lacks stays
	// empty throughout.
	queries := append(dash.Queries(), recordingRules(t, rules)...)
	var empty []string
	deadline := time.Now().Add(15 * time.Second)
	for {
		empty = empty[:0]
		for _, q := range queries {
			expr, err := Interpolate(q.Expr, vars)
			if err != nil {
				t.Fatalf("%s: %v", q.Where, err)
			}
			if err := prom.expectNonEmpty(ctx, expr); err != nil {
				empty = append(empty, fmt.Sprintf("%s: %v\n    %s", q.Where, err, expr))
			}
		}
		if len(empty) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for _, e := range empty {
		t.Errorf("no data: %s", e)
	}
	t.Logf("%d dashboard queries and recording rules returned data", len(queries)-len(empty))
	return vars
}

// recordingRules lists the series the rule files record, as queries.
func recordingRules(t *testing.T, files []string) []Query {
	t.Helper()
	var qs []Query
	for _, f := range files {
		groups, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, promqlParser, nil)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", f, errs)
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					qs = append(qs, Query{Where: "recording rule " + r.Record, Expr: r.Record})
				}
			}
		}
	}
	return qs
}

// findPrometheus returns the prometheus binary, or skips (fails when
// required) without one. promtool must be there too: CI installs both from
// the same package.
func findPrometheus(t *testing.T) string {
	t.Helper()
	e2e.RequireTool(t, "promtool")
	return e2e.RequireTool(t, "prometheus")
}

// startExporter starts one fake API per account and the real exporter,
// configured by file, walking all of them.
func startExporter(t *testing.T, args ...string) *e2e.Exporter {
	t.Helper()
	var cfg strings.Builder
	cfg.WriteString("accounts:\n")
	for _, a := range fakeAccounts {
		key := "e2e-key-" + a.name
		opts := []vocodetest.Option{vocodetest.WithAPIKey(key), vocodetest.WithNumbers(vocodetest.Numbers(a.numbers, a.conns)),
			vocodetest.WithAgents(vocodetest.Agents(6))}
		if a.usage.Plan != "" {
			opts = append(opts, vocodetest.WithUsage(a.usage))
		}
		if a.calls != nil {
			opts = append(opts, vocodetest.WithCalls(a.calls))
		}
		s := vocodetest.NewServer(a.conns, opts...)
		t.Cleanup(s.Close)
		for _, f := range a.faults {
			s.AddFault(f)
		}
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s\n    api_key: %s\n", a.name, s.URL, key)
		if a.expected != "" {
			fmt.Fprintf(&cfg, "    expected_connections: %s\n", a.expected)
		}
	}
	path := filepath.Join(t.TempDir(), "vocode.yml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return e2e.Start(t, e2e.Build(t), e2e.Options{Args: append([]string{"--config.file=" + path,
		"--collector.calls", "--collector.calls.max-pages=2", "--collector.calls.by-agent"}, args...)})
}

// prometheus is a running Prometheus server.
type prometheus struct {
	url string
}

// startPrometheus runs Prometheus on a free loopback port with its own
// storage, with the given scrape configs, evaluating the rules every second.
func startPrometheus(t *testing.T, bin, scrapeConfigs string, rules []string, flags ...string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	var abs []string
	for _, r := range rules {
		a, err := filepath.Abs(r)
		if err != nil {
			t.Fatal(err)
		}
		abs = append(abs, a)
	}
	// job="vocode" is what VocodeExporterDown assumes.
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: %s
scrape_configs:%s`, jsonString(abs), scrapeConfigs)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return runPrometheus(t, bin, cfgPath, flags...)
}

// runPrometheus runs Prometheus with the configuration file at cfgPath on a
// free loopback port, with storage of its own, until the test ends.
func runPrometheus(t *testing.T, bin, cfgPath string, flags ...string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	addr := e2e.FreeAddr(t)
	cmd := exec.Command(bin, append([]string{
		"--config.file=" + cfgPath,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}, flags...)...)
	logs := &e2e.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})

	p := &prometheus{url: "http://" + addr}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(ctx, t, "prometheus ready", func() error {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		_, err := p.get(ctx, "/-/ready", nil)
		return err
	})
	return p
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// get fetches a path of Prometheus' HTTP API, failing on a non-200 answer.
func (p *prometheus) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := p.url + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	return body, nil
}

// apiResponse is the envelope of Prometheus' HTTP API answers.
type apiResponse[T any] struct {
	Status string `json:"status"`
	Data   T      `json:"data"`
	Error  string `json:"error"`
}

func getAPI[T any](ctx context.Context, p *prometheus, path string, q url.Values) (T, error) {
	var r apiResponse[T]
	body, err := p.get(ctx, path, q)
	if err != nil {
		return r.Data, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r.Data, err
	}
	if r.Status != "success" {
		return r.Data, fmt.Errorf("%s: %s", path, r.Error)
	}
	return r.Data, nil
}

// queryResult is an instant query's answer; only its size and labels
// matter here.
type queryResult struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		// Value is a float sample, [time, "value"]; Histogram a native
		// histogram sample, [time, {count, sum, buckets}].
		Value     []any `json:"value"`
		Histogram []any `json:"histogram"`
	} `json:"result"`
}

// query evaluates expr now through /api/v1/query.
func (p *prometheus) query(ctx context.Context, expr string) (queryResult, error) {
	return getAPI[queryResult](ctx, p, "/api/v1/query", url.Values{"query": {expr}})
}

var errEmpty = errors.New("empty result")

// expectCount fails unless expr returns n series.
func (p *prometheus) expectCount(ctx context.Context, expr string, n int) error {
	r, err := p.query(ctx, expr)
	if err != nil {
		return err
	}
	if len(r.Result) != n {
		return fmt.Errorf("%d series, want %d", len(r.Result), n)
	}
	return nil
}

// expectNonEmpty fails unless expr returns at least one series.
func (p *prometheus) expectNonEmpty(ctx context.Context, expr string) error {
	r, err := p.query(ctx, expr)
	if err != nil {
		return err
	}
	if len(r.Result) == 0 {
		return errEmpty
	}
	return nil
}

// rulesHealthy checks /api/v1/rules: every rule of every file loaded, each
// evaluated with health "ok".
func (p *prometheus) rulesHealthy(ctx context.Context, files []string) error {
	type rule struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
	}
	data, err := getAPI[struct {
		Groups []struct {
			Name  string `json:"name"`
			File  string `json:"file"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}](ctx, p, "/api/v1/rules", nil)
	if err != nil {
		return err
	}
	loaded := map[string]bool{}
	n := 0
	var bad []string
	for _, g := range data.Groups {
		loaded[filepath.Base(g.File)] = true
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				bad = append(bad, fmt.Sprintf("%s/%s: health %q %s", g.Name, r.Name, r.Health, r.LastError))
			}
		}
	}
	for _, f := range files {
		if !loaded[filepath.Base(f)] {
			bad = append(bad, "rule file "+f+" not loaded")
		}
	}
	if n == 0 {
		bad = append(bad, "no rules loaded")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// resolveVariables gives each query variable the values Prometheus knows,
// in dashboard order (later variables' selectors use earlier ones), as the
// regex Grafana would send for all of them selected.
func resolveVariables(ctx context.Context, t *testing.T, p *prometheus, d *Dashboard) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		sel, label, ok := parseLabelValues(v.QueryString())
		if !ok {
			t.Fatalf("variable %s: cannot evaluate query %q", v.Name, v.QueryString())
		}
		sel, err := Interpolate(sel, vars)
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		values, err := getAPI[[]string](ctx, p, "/api/v1/label/"+label+"/values", url.Values{"match[]": {sel}})
		if err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		if len(values) == 0 {
			t.Fatalf("variable %s: Prometheus knows no %s for %s", v.Name, label, sel)
		}
		vars[v.Name] = RegexAlternation(values)
		t.Logf("$%s = %s", v.Name, vars[v.Name])
	}
	return vars
}

// checkAlerts compares the values of label (account, instance) for which
// each alert is pending or firing with want. The rules' `for` durations are
// minutes, so in this short run the alerts are pending: that state already
// says the expression matched.
func checkAlerts(ctx context.Context, t *testing.T, p *prometheus, label string, want map[string][]string) {
	t.Helper()
	for alert, values := range want {
		r, err := p.query(ctx, fmt.Sprintf(`ALERTS{alertname=%q}`, alert))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range r.Result {
			if !slices.Contains(got, s.Metric[label]) {
				got = append(got, s.Metric[label])
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, values) {
			t.Errorf("%s is active for %s %v, want %v", alert, label, got, values)
		}
	}
}

// waitFor retries check every 200ms until it succeeds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, check func() error) {
	t.Helper()
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestMain removes the exporter binary the end-to-end test built and checks
// that no goroutine (a fake API, a process waiter) outlives the tests.
func TestMain(m *testing.M) { e2e.Main(m) }
