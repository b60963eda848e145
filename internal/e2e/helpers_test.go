package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// Canaries: marker strings the exporter holds as secrets. Every test that
// starts an exporter searches what it serves and logs for them.
const (
	canaryKey   = "vcdKEY-canary-7Q2mZ9xPw4"  // API key of the account under test
	canaryKey2  = "vcdKEY-canary-control-3Jd" // API key of the control account
	canaryCred  = "CRED-canary-twilio-K4rT8wLq"
	rotatedKey  = "vcdKEY-canary-rotated-Lp0"
	accountName = "victim"
	controlName = "control"
)

var allSecrets = []string{canaryKey, canaryKey2, canaryCred, rotatedKey}

func TestMain(m *testing.M) { e2e.Main(m) }

// families parses an exposition in the text format.
func families(t testing.TB, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	return mfs
}

// series returns the samples of name whose labels include want
// ("k1", "v1", "k2", "v2", ...).
func series(mfs map[string]*dto.MetricFamily, name string, want ...string) []*dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
	}
	var out []*dto.Metric
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// value returns the one sample of name with the labels given; ok is false
// when there is none.
func value(t testing.TB, mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	t.Helper()
	ms := series(mfs, name, labels...)
	switch len(ms) {
	case 0:
		return 0, false
	case 1:
		return sampleValue(ms[0]), true
	}
	t.Fatalf("%s%v: %d series, want one", name, labels, len(ms))
	return 0, false
}

// mustValue is value, failing the test when the series is absent.
func mustValue(t testing.TB, mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := value(t, mfs, name, labels...)
	if !ok {
		t.Fatalf("no series %s%v", name, labels)
	}
	return v
}

// scrape fetches /metrics (failing the test on anything but 200) and parses it.
func scrape(t testing.TB, exp *e2e.Exporter) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, err := exp.Scrape(ctx)
	if err != nil {
		t.Fatalf("scrape: %v\nlogs:\n%s", err, exp.Logs())
	}
	return body, families(t, body)
}

// logLines returns the lines of the exporter's log holding every substring.
func logLines(logs string, substrings ...string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		ok := line != ""
		for _, s := range substrings {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// waitLines waits until the log holds at least n lines with every substring
// and returns them. The exporter writes a walk's log lines before it answers
// the scrape, but they travel through a pipe: give them a moment.
func waitLines(exp *e2e.Exporter, n int, substrings ...string) []string {
	deadline := time.Now().Add(3 * time.Second)
	for {
		lines := logLines(exp.Logs(), substrings...)
		if len(lines) >= n || time.Now().After(deadline) {
			// Lines beyond n would have been written at the same time.
			time.Sleep(50 * time.Millisecond)
			return logLines(exp.Logs(), substrings...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertNoSecrets fails when text holds any canary.
func assertNoSecrets(t testing.TB, where, text string) {
	t.Helper()
	for _, s := range allSecrets {
		if strings.Contains(text, s) {
			i := strings.Index(text, s)
			lo, hi := max(0, i-120), min(len(text), i+len(s)+40)
			t.Errorf("secret %q leaked into %s: …%s…", s, where, text[lo:hi])
		}
	}
}

// assertProcessClean checks everything a running exporter exposes besides
// /metrics for canaries: the landing page, the health endpoints, its
// command line, and its log (at debug level).
func assertProcessClean(t testing.TB, exp *e2e.Exporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, path := range []string{"/", "/-/healthy", "/-/ready", "/no-such-page"} {
		_, body, err := exp.Get(ctx, path)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
		}
		assertNoSecrets(t, "GET "+path, body)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", exp.Cmd.Process.Pid))
	if err == nil { // /proc is Linux only
		if len(cmdline) == 0 {
			t.Errorf("empty /proc/%d/cmdline: process gone?", exp.Cmd.Process.Pid)
		}
		assertNoSecrets(t, "the command line", string(cmdline))
	}
	assertNoSecrets(t, "the log", exp.Logs())
}

// postReload sends POST /-/reload and returns the status and answer.
func postReload(t testing.TB, exp *e2e.Exporter) (int, string) {
	t.Helper()
	resp, err := http.Post(exp.URL+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatalf("POST /-/reload: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// replaceFile swaps a file's content atomically, as tools that rotate keys
// and configs do, so the exporter never reads half a file.
func replaceFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// account is one entry of a config file written by the tests.
type account struct{ name, url, keyFile string }

// writeConfig writes a config file naming accounts, keys in key files.
func writeConfig(t testing.TB, path string, accounts ...account) {
	t.Helper()
	var b strings.Builder
	b.WriteString("accounts:\n")
	for _, a := range accounts {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    api_key_file: %s\n", a.name, a.url, a.keyFile)
	}
	replaceFile(t, path, b.String())
}

// reasonCounts returns vocode_scrape_errors_total by reason for an account;
// every reason must be present.
func reasonCounts(t testing.TB, mfs map[string]*dto.MetricFamily, acct string) map[vocode.Reason]float64 {
	t.Helper()
	out := map[vocode.Reason]float64{}
	for _, r := range vocode.Reasons() {
		out[r] = mustValue(t, mfs, "vocode_scrape_errors_total", "account", acct, "collector", "connections", "reason", string(r))
	}
	return out
}

// labelValues lists the values of label over the samples of name for acct.
func labelValues(mfs map[string]*dto.MetricFamily, name, acct, label string) []string {
	var out []string
	for _, m := range series(mfs, name, "account", acct) {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				out = append(out, lp.GetValue())
			}
		}
	}
	slices.Sort(out)
	return out
}

var logLevel = regexp.MustCompile(`level=(\w+)`)

// levelOf returns the level of a logfmt line.
func levelOf(line string) string {
	if m := logLevel.FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return ""
}
