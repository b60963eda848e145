package dashboardtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
)

// TestEndToEndCustomConfig renders the mixin with customConfig and runs it
// against a real Prometheus whose targets carry the configured jobs and a
// cluster label, next to a second exporter of "another team" under job
// other-team with the same account names (and the same failing accounts),
// and a target of each job that is down:
//
//   - every dashboard panel returns data, and the cluster variable lists
//     the cluster;
//   - VocodeExporterDown fires for the voc-self target that is down and for
//     the probe of ghost, an account the exporter does not have (its
//     voc-accounts target is down, the exporter up), not for other-team's;
//   - no alert fires for other-team's accounts, though its series would
//     fire them;
//   - VocodeCallErrorsHigh, which fires for prod's 14% error share with the
//     default 10%, is quiet with callErrorShareThreshold 0.5.
func TestEndToEndCustomConfig(t *testing.T) {
	t.Parallel()
	promBin := findPrometheus(t)
	if testing.Short() && os.Getenv(e2e.RequireEnv) != "1" {
		t.Skip("end-to-end test skipped in -short mode")
	}
	r := renderMixin(t, customConfig)

	// Ours, in probe mode: one voc-accounts target per account, the
	// exporter's own metrics under voc-self. Theirs: /metrics.
	ours := startExporter(t, "--web.probe-only")
	theirs := startExporter(t)
	oursDown, theirsDown := e2e.FreeAddr(t), e2e.FreeAddr(t)
	sdFile := filepath.Join(t.TempDir(), "accounts.json")
	// ghost is a probe of an account the exporter does not have: its
	// target is down while the exporter is up.
	sd := jsonString([]map[string]any{{"targets": append(accountNames(), "ghost"), "labels": map[string]string{"cluster": "east"}}})
	if err := os.WriteFile(sdFile, []byte(sd), 0o600); err != nil {
		t.Fatal(err)
	}
	scrapeConfigs := probeJob("voc-accounts", sdFile, ours.Addr) + fmt.Sprintf(`
  - job_name: voc-self
    static_configs:
      - targets: [%q, %q]
        labels: {cluster: east}
  - job_name: other-team
    static_configs:
      - targets: [%q, %q]
        labels: {cluster: east}
`, ours.Addr, oursDown, theirs.Addr, theirsDown)
	rules := []string{r.rulesFile}
	prom := startPrometheus(t, promBin, scrapeConfigs, rules)

	vars := checkDashboardAndRules(t, prom, r.dashboard, rules, `job="voc-accounts"`)
	if vars["cluster"] != "east" {
		t.Errorf("cluster variable = %q, want east", vars["cluster"])
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The other team's series are there, and would fire the alerts: its
	// broken and limited accounts fail their walks, a target of its job is
	// down.
	waitFor(ctx, t, "the other team's failing accounts and target", func() error {
		if err := prom.expectCount(ctx, `vocode_up{job="other-team"} == 0`, 2); err != nil {
			return fmt.Errorf("failing accounts: %w", err)
		}
		return prom.expectCount(ctx, `up{job="other-team"} == 0`, 1)
	})
	want := accountAlerts()
	want["VocodeCallErrorsHigh"] = nil // prod's 14% is below callErrorShareThreshold 0.5
	checkAlerts(ctx, t, prom, "account", want)
	checkAlerts(ctx, t, prom, "instance", map[string][]string{"VocodeExporterDown": slices.Sorted(slices.Values([]string{oursDown, "ghost"}))})
	// Every alert is ours, and keeps the cluster.
	for _, q := range []string{`ALERTS{job!~"voc-accounts|voc-self"}`, `ALERTS{cluster!="east"}`} {
		if err := prom.expectCount(ctx, q, 0); err != nil {
			r, _ := prom.query(ctx, q)
			t.Errorf("%s: %v: %v", q, err, r.Result)
		}
	}
}
