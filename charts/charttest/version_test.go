package charttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChartVersion: the chart's version and appVersion are the VERSION file's.
func TestChartVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(b))
	c := loadChart(t)
	if c.Metadata.Version != version || c.Metadata.AppVersion != version {
		t.Errorf("Chart.yaml: version %q, appVersion %q; want VERSION's %q for both", c.Metadata.Version, c.Metadata.AppVersion, version)
	}
	if c.Metadata.APIVersion != "v2" {
		t.Errorf("Chart.yaml: apiVersion %q, want v2 (Helm 3)", c.Metadata.APIVersion)
	}
}
