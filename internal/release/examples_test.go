package release

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/unit"
	yaml "go.yaml.in/yaml/v3"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

// The Kubernetes manifests are the Helm chart's (charts/vocode-exporter),
// which charts/charttest renders and checks.

// checkIntervalAndTimeout wants both set, the timeout leaving the exporter
// room for its own deadline, and below the interval.
func checkIntervalAndTimeout(t *testing.T, where, interval, timeout string) {
	t.Helper()
	iv, err1 := time.ParseDuration(interval)
	to, err2 := time.ParseDuration(timeout)
	if err1 != nil || err2 != nil {
		t.Errorf("%s: interval %q / timeout %q: want both set as durations", where, interval, timeout)
		return
	}
	if to >= iv {
		t.Errorf("%s: scrape timeout %v is not below the interval %v", where, to, iv)
	}
	if to < 5*time.Second {
		t.Errorf("%s: scrape timeout %v leaves too little time to walk the API's pages", where, to)
	}
}

type promConfig struct {
	Global struct {
		ScrapeInterval string `yaml:"scrape_interval"`
		ScrapeTimeout  string `yaml:"scrape_timeout"`
	} `yaml:"global"`
	ScrapeConfigs []struct {
		JobName        string `yaml:"job_name"`
		ScrapeInterval string `yaml:"scrape_interval"`
		ScrapeTimeout  string `yaml:"scrape_timeout"`
		MetricsPath    string `yaml:"metrics_path"`
		StaticConfigs  []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestPrometheusExample(t *testing.T) {
	file := repoFile(t, "examples/prometheus.yml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cfg promConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("examples/prometheus.yml: %v", err)
	}
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				if !strings.HasSuffix(target, ":"+defaultPort) {
					continue
				}
				found = true
				interval := firstNonEmpty(sc.ScrapeInterval, cfg.Global.ScrapeInterval, "1m")
				timeout := firstNonEmpty(sc.ScrapeTimeout, cfg.Global.ScrapeTimeout, "10s")
				checkIntervalAndTimeout(t, "job "+sc.JobName, interval, timeout)
				if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
					t.Errorf("job %s: metrics_path %q, want /metrics", sc.JobName, sc.MetricsPath)
				}
			}
		}
	}
	if !found {
		t.Errorf("examples/prometheus.yml has no target on port %s", defaultPort)
	}

	e2e.RequireTool(t, "promtool")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "promtool", "check", "config", file).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config examples/prometheus.yml: %v\n%s", err, out)
	}
	t.Logf("promtool: %s", strings.TrimSpace(string(out)))
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// unitFile holds a systemd unit's settings by section; repeated keys keep
// every value in order.
type unitFile map[string]map[string][]string

// parseUnit reads a unit file with go-systemd's reader, which follows
// systemd's syntax (continuation lines, comments, empty assignments).
func parseUnit(r io.Reader) (unitFile, error) {
	opts, err := unit.DeserializeOptions(r)
	if err != nil {
		return nil, err
	}
	u := unitFile{}
	for _, o := range opts {
		if u[o.Section] == nil {
			u[o.Section] = map[string][]string{}
		}
		u[o.Section][o.Name] = append(u[o.Section][o.Name], o.Value)
	}
	return u, nil
}

func TestSystemdUnit(t *testing.T) {
	file := repoFile(t, "examples/systemd/vocode_exporter.service")
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	u, err := parseUnit(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	get := func(k string) string {
		v := svc[k]
		if len(v) == 0 {
			return ""
		}
		return v[len(v)-1]
	}

	// The key: a systemd credential, handed over as a file.
	creds := map[string]bool{}
	for _, lc := range svc["LoadCredential"] {
		name, src, ok := strings.Cut(lc, ":")
		if !ok || !strings.HasPrefix(src, "/") {
			t.Errorf("LoadCredential=%s: want NAME:/absolute/path", lc)
		}
		creds[name] = true
	}
	execStart := get("ExecStart")
	var keyArg string
	for _, w := range strings.Fields(execStart) {
		if v, ok := strings.CutPrefix(w, "--vocode.api-key-file="); ok {
			keyArg = v
		}
	}
	name, ok := strings.CutPrefix(keyArg, "${CREDENTIALS_DIRECTORY}/")
	if !ok {
		t.Errorf("ExecStart does not pass --vocode.api-key-file=${CREDENTIALS_DIRECTORY}/<credential>: %q", execStart)
	} else if !creds[name] {
		t.Errorf("ExecStart reads credential %q, which no LoadCredential= loads", name)
	}
	if strings.Contains(execStart, "VOCODE_API_KEY") || len(svc["Environment"]) > 0 || len(svc["EnvironmentFile"]) > 0 {
		t.Error("the unit passes settings through the environment; keep the key in the credential")
	}
	if !strings.Contains(execStart, defaultPort) {
		t.Errorf("ExecStart does not name the listen port %s", defaultPort)
	}

	// Hardening.
	for k, want := range map[string]string{
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectControlGroups":    "yes",
		"RestrictSUIDSGID":        "yes",
		"MemoryDenyWriteExecute":  "yes",
		"CapabilityBoundingSet":   "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	} {
		if v, ok := svc[k]; !ok || v[len(v)-1] != want {
			t.Errorf("[Service] %s=%q, want %q", k, strings.Join(v, ","), want)
		}
	}
	if len(svc["SystemCallFilter"]) == 0 {
		t.Error("[Service] has no SystemCallFilter=")
	}
	if reload := get("ExecReload"); !strings.Contains(reload, "HUP") {
		t.Errorf("ExecReload=%q: want a SIGHUP (the exporter reloads on it)", reload)
	}

	// systemd's own check, where systemd-analyze exists. It insists that
	// ExecStart's program exists: point it at any executable.
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not on PATH; skipping `systemd-analyze verify`")
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "vocode_exporter.service")
	text := strings.Replace(string(src), "ExecStart=/usr/local/bin/vocode_exporter", "ExecStart="+self, 1)
	if text == string(src) {
		t.Fatal("ExecStart no longer starts with /usr/local/bin/vocode_exporter; update this test")
	}
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, analyze, "verify", unit)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
