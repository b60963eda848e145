package dashboardtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"go.yaml.in/yaml/v2"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

// The probe-mode examples are checked here, in the module that already has
// Prometheus as a dependency: promtool validates each file, and Prometheus'
// own relabelling decides which targets each job scrapes, and how.
// (Prometheus' config package would load the files too, but it brings the
// cloud SDKs of remote write along: minutes of compiling for nothing here.)

const exporterAddress = "vocode-exporter.example.internal:10401"

func probeExample(name string) string {
	return filepath.Join(filepath.Dir(dashboardFile()), "..", "examples", "probe", name)
}

// scrapeConfig is the part of a scrape config that decides the targets.
type scrapeConfig struct {
	JobName        string            `yaml:"job_name"`
	MetricsPath    string            `yaml:"metrics_path"`
	RelabelConfigs []*relabel.Config `yaml:"relabel_configs"`
}

// vocodeJob checks an example with promtool and returns its job "vocode".
func vocodeJob(t *testing.T, file string) scrapeConfig {
	t.Helper()
	path := probeExample(file)
	if out, err := exec.Command(e2e.RequireTool(t, "promtool"), "check", "config", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config %s: %v\n%s", file, err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName != "vocode" {
			continue
		}
		for _, rc := range sc.RelabelConfigs {
			// Prometheus' loader sets it from the global config; its
			// default is UTF-8.
			rc.NameValidationScheme = model.UTF8Validation
		}
		return sc
	}
	t.Fatalf("%s has no job vocode", file)
	return scrapeConfig{}
}

// exampleAccounts reads the file_sd list of accounts the examples name.
func exampleAccounts(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(probeExample("vocode_accounts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var groups []*targetgroup.Group
	if err := yaml.UnmarshalStrict(b, &groups); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		for _, tg := range g.Targets {
			names = append(names, string(tg[model.AddressLabel]))
		}
	}
	return names
}

// target relabels an account's target as job sc would: false when dropped.
func target(sc scrapeConfig, account string) (labels.Labels, bool) {
	lb := labels.NewBuilder(labels.FromStrings(
		model.AddressLabel, account, model.JobLabel, sc.JobName, model.MetricsPathLabel, sc.MetricsPath))
	keep := relabel.ProcessBuilder(lb, sc.RelabelConfigs...)
	return lb.Labels(), keep
}

// TestProbeExample: every account of the file_sd list becomes a probe of
// that account on the exporter, with the account as its instance.
func TestProbeExample(t *testing.T) {
	sc := vocodeJob(t, "prometheus.yml")
	accounts := exampleAccounts(t)
	if len(accounts) < 2 {
		t.Fatalf("the example lists %d accounts", len(accounts))
	}
	for _, a := range accounts {
		lbls, keep := target(sc, a)
		if !keep {
			t.Errorf("account %s is dropped", a)
			continue
		}
		want := map[string]string{
			model.AddressLabel: exporterAddress, model.MetricsPathLabel: "/probe",
			"__param_account": a, model.InstanceLabel: a,
		}
		for k, v := range want {
			if got := lbls.Get(k); got != v {
				t.Errorf("account %s: %s = %q, want %q", a, k, got, v)
			}
		}
	}
}

// TestShardExamples: the two shards split the accounts, each probed by
// exactly one shard, and both get some.
func TestShardExamples(t *testing.T) {
	shards := []scrapeConfig{vocodeJob(t, "prometheus-shard-0.yml"), vocodeJob(t, "prometheus-shard-1.yml")}
	// The example's accounts, and more, so that both shards are sure to
	// be given some.
	accounts := exampleAccounts(t)
	for i := range 40 {
		accounts = append(accounts, "client-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	perShard := make([]int, len(shards))
	for _, a := range accounts {
		var owners []int
		for i, sc := range shards {
			lbls, keep := target(sc, a)
			if !keep {
				continue
			}
			owners = append(owners, i)
			perShard[i]++
			if lbls.Get("__param_account") != a || lbls.Get(model.AddressLabel) != exporterAddress || lbls.Get(model.InstanceLabel) != a {
				t.Errorf("shard %d probes %s as %v", i, a, lbls)
			}
		}
		if len(owners) != 1 {
			t.Errorf("account %s is probed by shards %v, want exactly one", a, owners)
		}
	}
	if slices.Contains(perShard, 0) {
		t.Errorf("accounts per shard %v: a shard got none", perShard)
	}
}
