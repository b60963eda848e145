package charttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests run in `make test-chart` (.ci/run), not in `make test`: Helm's
// library takes minutes to compile from cold caches.
const (
	ownTarget   = "`make test-chart`"
	otherTarget = "`make test`"
)

// TestDocsNameTestChart: the documents say which command runs these tests.
// The chart's README, all about the chart, names `make test-chart` and
// never `make test`; in the repository's README and CHANGELOG, a line
// (a table row, an entry) about the chart's tests or its generated files
// that names `make test` names `make test-chart` too.
func TestDocsNameTestChart(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), ownTarget) {
		t.Errorf("%s/README.md does not say %s runs the chart's tests", ChartDir, ownTarget)
	}
	for i, line := range strings.Split(string(readme), "\n") {
		if strings.Contains(line, otherTarget) {
			t.Errorf("%s/README.md:%d names %s, which does not run the chart's tests: %s", ChartDir, i+1, otherTarget, line)
		}
	}
	for _, doc := range []string{"README.md", "CHANGELOG.md"} {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			aboutChart := strings.Contains(line, "charttest") || strings.Contains(line, "chart's `files/`") || strings.Contains(line, "chart's tests")
			if aboutChart && strings.Contains(line, otherTarget) && !strings.Contains(line, ownTarget) {
				t.Errorf("%s:%d says the chart is checked by %s, not %s: %.200s", doc, i+1, otherTarget, ownTarget, line)
			}
		}
	}
}
