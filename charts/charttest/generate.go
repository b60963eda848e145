package charttest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vocode-exporter/vocode_exporter/mixin"
)

// Jobs are the Prometheus jobs the chart's scrape objects give their
// targets, which its rules select.
type Jobs struct {
	// Accounts is the job of the account series (vocode_*): the
	// ServiceMonitor's in the /metrics mode, the probes' in probe mode.
	Accounts string
	// Exporter is the job of the exporter's own series in probe mode.
	Exporter string
}

// SentinelJobs are the job names files/ holds in place of the jobs: the
// chart's templates replace them with the jobs of its values, so that the
// files are never run through Helm's template engine (their {{ }} are
// Prometheus' and Grafana's).
var SentinelJobs = Jobs{Accounts: "__VOCODE_JOB__", Exporter: "__VOCODE_EXPORTER_JOB__"}

// SentinelDashboardUID is the uid files/vocode.json holds in place of the
// dashboard's: the template replaces it with grafanaDashboard.uid, so that
// two releases can ship the dashboard to one Grafana under uids of their own.
const SentinelDashboardUID = "__VOCODE_DASHBOARD_UID__"

// DefaultJobs are the jobs of the mixin's default selectors, with which
// alerts/ and dashboards/ are rendered, and of the chart's default values.
var DefaultJobs = Jobs{Accounts: "vocode", Exporter: "vocode_exporter"}

// Paths below the repository's root of the files the mixin's defaults
// render into (`make generate`) and of the chart, and below the chart's
// directory of the files it reads.
const (
	RulesSource        = "alerts/vocode.rules.yml"
	DashboardSource    = "dashboards/vocode.json"
	ChartDir           = "charts/vocode-exporter"
	ChartRulesFile     = "files/vocode.rules.yaml"
	ChartDashboardFile = "files/vocode.json"
)

// config is the mixin's _config for jobs: the selectors of the account
// series and of the exporter's own, and the dashboard's uid unless it is ""
// (the mixin's default).
func (j Jobs) config(uid string) string {
	c := fmt.Sprintf(`vocodeSelector: 'job="%s"', vocodeExporterSelector: 'job=~"%s|%s"'`, j.Accounts, j.Accounts, j.Exporter)
	if uid != "" {
		c += fmt.Sprintf(`, dashboardUid: '%s'`, uid)
	}
	return "{" + c + "}"
}

// render renders the mixin (mixin/) with the selectors of jobs and the
// dashboard's uid, and returns the file of that name.
func render(jobs Jobs, uid, name string) ([]byte, error) {
	files, err := mixin.Render(jobs.config(uid))
	if err != nil {
		return nil, err
	}
	b, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("the mixin renders no %s", name)
	}
	return b, nil
}

// Rules is the mixin's rule file (groups: ...) with its selectors set for jobs.
func Rules(jobs Jobs) ([]byte, error) { return render(jobs, "", mixin.RulesFile) }

// Dashboard is the mixin's dashboard with its selectors set for jobs and
// the uid uid ("": the mixin's default).
func Dashboard(jobs Jobs, uid string) ([]byte, error) { return render(jobs, uid, "vocode.json") }

// generatedHeader heads files/vocode.rules.yaml.
const generatedHeader = "# Written by `make generate` from mixin/, with stand-in job\n" +
	"# names (charttest.SentinelJobs) that the chart replaces with the jobs of its\n" +
	"# values. Edit the source, not this file.\n"

// ChartFiles are the files `make generate` writes into the chart, by path
// below the chart's directory.
func ChartFiles() (map[string][]byte, error) {
	rules, err := Rules(SentinelJobs)
	if err != nil {
		return nil, err
	}
	dashboard, err := Dashboard(SentinelJobs, SentinelDashboardUID)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		ChartRulesFile:     append([]byte(generatedHeader), rules...),
		ChartDashboardFile: dashboard,
	}, nil
}

// Generate writes ChartFiles into the chart below root.
func Generate(root string) error {
	files, err := ChartFiles()
	if err != nil {
		return err
	}
	for name, data := range files {
		p := filepath.Join(root, ChartDir, name)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
