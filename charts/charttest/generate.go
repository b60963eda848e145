package charttest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// DefaultJobs are the jobs alerts/vocode.rules.yml selects, and the chart's
// default values.
var DefaultJobs = Jobs{Accounts: "vocode", Exporter: "vocode_exporter"}

// Paths of the sources below the repository's root, and of the files the
// chart reads below its directory.
const (
	RulesSource        = "alerts/vocode.rules.yml"
	DashboardSource    = "dashboards/vocode.json"
	ChartDir           = "charts/vocode-exporter"
	ChartRulesFile     = "files/vocode.rules.yaml"
	ChartDashboardFile = "files/vocode.json"
)

// jobMatchers are the job selectors of alerts/vocode.rules.yml, written for
// DefaultJobs, and how each is written for other jobs.
var jobMatchers = []struct {
	text   string
	format func(Jobs) string
}{
	{`job=~"vocode|vocode_exporter"`, func(j Jobs) string { return fmt.Sprintf(`job=~"%s|%s"`, j.Accounts, j.Exporter) }},
	{`job="vocode"`, func(j Jobs) string { return fmt.Sprintf(`job="%s"`, j.Accounts) }},
}

// Rules is the rules file (groups: ...) with its selectors set for jobs.
//
// Until the mixin (mixin/) renders them for any selectors, the rules come
// from alerts/vocode.rules.yml, whose selectors name DefaultJobs, with
// those selectors rewritten: each of jobMatchers must be found, or the
// file has changed in a way this does not know.
func Rules(root string, jobs Jobs) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(root, RulesSource))
	if err != nil {
		return nil, err
	}
	text := string(b)
	for _, m := range jobMatchers {
		if !strings.Contains(text, m.text) {
			return nil, fmt.Errorf("%s no longer holds the selector %s: update charttest's jobMatchers", RulesSource, m.text)
		}
		text = strings.ReplaceAll(text, m.text, m.format(jobs))
	}
	return []byte(text), nil
}

// Dashboard is the dashboard's JSON model for jobs. The dashboard of
// dashboards/ selects no job by name (its job variable lists those of
// vocode_up), so it is the same for any jobs.
func Dashboard(root string, _ Jobs) ([]byte, error) {
	return os.ReadFile(filepath.Join(root, DashboardSource))
}

// generatedHeader heads files/vocode.rules.yaml.
const generatedHeader = "# Written by `make generate` from " + RulesSource + ", with stand-in job\n" +
	"# names (charttest.SentinelJobs) that the chart replaces with the jobs of its\n" +
	"# values. Edit the source, not this file.\n"

// ChartFiles are the files `make generate` writes into the chart, by path
// below the chart's directory.
func ChartFiles(root string) (map[string][]byte, error) {
	rules, err := Rules(root, SentinelJobs)
	if err != nil {
		return nil, err
	}
	dashboard, err := Dashboard(root, SentinelJobs)
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
	files, err := ChartFiles(root)
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
