package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

func TestMain(m *testing.M) { e2e.Main(m) }

func scrape(t *testing.T, e *e2e.Exporter) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, err := e.Scrape(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func requireSeries(t *testing.T, body string, series ...string) {
	t.Helper()
	for _, s := range series {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s) + `$`).MatchString(body) {
			t.Errorf("missing %s", s)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

// The real binary against the fake API, scraped as Prometheus would, and
// its exposition checked by promtool.
func TestEndToEnd(t *testing.T) {
	api := vocodetest.NewServer(vocodetest.Dataset(150, 100))
	defer api.Close()
	exp := e2e.Start(t, e2e.Build(t), e2e.Options{
		Args: []string{"--vocode.url=" + api.URL},
		Env:  []string{"VOCODE_API_KEY=" + api.APIKey},
	})
	body := scrape(t, exp)
	requireSeries(t, body,
		`vocode_up{account="default"} 1`,
		`vocode_account_connections{account="default",type="twilio"} 150`,
		`vocode_account_connections{account="default",type="openai"} 100`,
		`vocode_account_connections_reported{account="default"} 250`,
		`vocode_scrape_pages{account="default"} 3`,
		`vocode_api_requests_total{account="default",code="200",endpoint="account_connections_list"} 3`,
		`vocode_twilio_steering_pool_size{account="default",connection_id="70000003-0000-4000-8000-000000000003"} 3`,
	)
	for _, want := range []string{"vocode_exporter_build_info{", "go_goroutines ", "process_cpu_seconds_total ", "vocode_api_request_duration_seconds_bucket{"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}

	cmd := exec.Command(e2e.RequireTool(t, "promtool"), "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	// The usage series count minutes, as the API and Vocode's plans do:
	// their names are part of the exporter's interface (the alerts read
	// them), so promtool's advice to use seconds is known and declined.
	// Anything else it says fails the test, and so does an exit code other
	// than 3 (lint findings), which would mean the exposition did not parse.
	declined := map[string]bool{
		`vocode_usage_minutes use base unit "seconds" instead of "minutes"`:       true,
		`vocode_usage_limit_minutes use base unit "seconds" instead of "minutes"`: true,
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !declined[line] {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
}

func TestEndpoints(t *testing.T) {
	api := vocodetest.NewServer(vocodetest.Dataset(1, 1))
	defer api.Close()
	bin := e2e.Build(t)
	exp := e2e.Start(t, bin, e2e.Options{
		Args: []string{"--vocode.url=" + api.URL},
		Env:  []string{"VOCODE_API_KEY=" + api.APIKey},
	})
	// e2e.Build is a plain go build: no linker flags, so the version on the
	// status page comes from the build information and the VERSION file.
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ver, _ := versionFromBuildInfo(bi, versionFile)
	tests := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/", 200, `href="/metrics"`},
		{"GET", "/", 200, "(version=" + ver + ", "},
		{"GET", "/-/healthy", 200, "Healthy"},
		{"GET", "/-/ready", 200, "Ready"},
		{"GET", "/-/reload", 405, "reload takes POST"},
		{"POST", "/-/reload", 200, "configuration reloaded"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, exp.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(buf.String(), tt.body) {
			t.Errorf("%s %s = %d %q, want %d with %q", tt.method, tt.path, resp.StatusCode, buf.String(), tt.code, tt.body)
		}
	}
}

func TestStartupErrors(t *testing.T) {
	bin := e2e.Build(t)
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"no key", []string{"--vocode.url=https://api.vocode.dev"}, nil, "no API key"},
		{"plain http", []string{"--vocode.url=http://api.vocode.dev"}, []string{"VOCODE_API_KEY=k"}, "refusing plain http:// API URL"},
		{"page size", []string{"--vocode.page-size=5"}, []string{"VOCODE_API_KEY=k"}, "--vocode.page-size must be at least 10"},
		{"bad config", []string{"--config.file=config/testdata/invalid_unknown_key.yml"}, nil, `line 3: unknown key \"api_kee\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Dir = e2e.RepoRoot()
			cmd.Env = tt.env
			out, err := cmd.CombinedOutput()
			if err == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %v, output %q; want exit 1 saying %q", err, out, tt.want)
			}
		})
	}
}

// The canary test: a marker in the API key and in every credential the API
// returns, then every output of the exporter, on success and failure paths,
// searched for it.
func TestSecretsNeverLeave(t *testing.T) {
	const marker = "CANARY7f3a"
	key := marker + "-api-key"
	data := vocodetest.WithCredentials(vocodetest.Dataset(30, 20), marker+"-credential")
	healthy := vocodetest.NewServer(data, vocodetest.WithAPIKey(key))
	defer healthy.Close()
	failing := vocodetest.NewServer(data, vocodetest.WithAPIKey(key))
	defer failing.Close()
	// An API that echoes the key in its error detail, on page 2.
	failing.AddFault(vocodetest.Fault{Page: 2, Status: 400, Body: fmt.Sprintf(`{"detail":"bad request from Bearer %s"}`, key)})
	wrongKey := vocodetest.NewServer(data, vocodetest.WithAPIKey("another"))
	defer wrongKey.Close()
	malformed := vocodetest.NewServer(data, vocodetest.WithAPIKey(key))
	defer malformed.Close()
	malformed.AddFault(vocodetest.Fault{Handler: vocodetest.Raw(200, "application/json",
		fmt.Sprintf(`{"items":[{"id":1,"type":"account_connection_twilio","credentials":{"twilio_auth_token":"%s"}}],"has_more":false}`, marker))})

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	cfgFile := filepath.Join(dir, "config.yml")
	writeFile(t, keyFile, key+"\n")
	writeFile(t, cfgFile, fmt.Sprintf(`accounts:
  - {name: healthy, url: %q, api_key_file: %q}
  - {name: failing, url: %q, api_key: %q}
  - {name: wrongkey, url: %q, api_key: %q}
  - {name: malformed, url: %q, api_key: %q}
`, healthy.URL, keyFile, failing.URL, key, wrongKey.URL, key, malformed.URL, key))

	exp := e2e.Start(t, e2e.Build(t), e2e.Options{Args: []string{
		"--config.file=" + cfgFile, "--log.level=debug", "--vocode.page-size=10",
	}})
	var outputs []string
	for range 2 {
		outputs = append(outputs, scrape(t, exp))
	}
	requireSeries(t, outputs[0],
		`vocode_up{account="healthy"} 1`, `vocode_up{account="failing"} 0`,
		`vocode_up{account="wrongkey"} 0`, `vocode_up{account="malformed"} 0`,
		`vocode_scrape_errors_total{account="failing",collector="connections",reason="client_error"} 1`,
		`vocode_scrape_errors_total{account="wrongkey",collector="connections",reason="auth"} 1`,
		`vocode_scrape_errors_total{account="malformed",collector="connections",reason="decode"} 1`,
	)
	for _, path := range []string{"/", "/-/healthy", "/-/ready"} {
		_, body, err := exp.Get(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, body)
	}
	resp, err := http.Post(exp.URL+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	outputs = append(outputs, buf.String())

	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", exp.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(cmdline))
	check := exec.Command(exp.Cmd.Path, "--config.check", "--config.file="+cfgFile)
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("--config.check: %v\n%s", err, out)
	}
	outputs = append(outputs, string(out))
	exp.Stop()
	logs := exp.Logs()
	outputs = append(outputs, logs)

	// The failures must have been logged, or the search below proves little.
	for _, want := range []string{"account=failing collector=connections reason=client_error", "account=wrongkey collector=connections reason=auth", "account=malformed collector=connections reason=decode", "<secret>"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for i, o := range outputs {
		if strings.Contains(o, marker) {
			t.Errorf("output %d contains the canary:\n%s", i, o)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
