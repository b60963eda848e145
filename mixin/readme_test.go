package mixin

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-jsonnet"
)

var jsonnetBlock = regexp.MustCompile("(?s)```jsonnet\n(.*?)```")

// vendoredImporter reads the mixin as jsonnet-bundler vendors it (imports
// under the repository path), or relative to the importing file.
type vendoredImporter struct{ embedImporter }

const vendorPath = "github.com/vocode-exporter/vocode_exporter/mixin/"

func (i *vendoredImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	return i.embedImporter.Import(importedFrom, strings.TrimPrefix(importedPath, vendorPath))
}

// TestREADMEExamples evaluates each jsonnet example of README.md and
// checks that its selectors reach the rendered rules.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	// What each example's rendering must hold, in the README's order.
	want := []string{
		`job=\"vocode-prod\"`,
		`job=\"vocode-exporter\", namespace=\"monitoring\"`,
		`job=\"vocode-accounts\"`,
	}
	blocks := jsonnetBlock.FindAllSubmatch(readme, -1)
	if len(blocks) != len(want) {
		t.Fatalf("README.md has %d jsonnet examples, the test knows %d", len(blocks), len(want))
	}
	for n, b := range blocks {
		code := string(b[1])
		// The first example writes files; the others are the mixin with a
		// _config: render its rules.
		if strings.HasPrefix(code, "(import") {
			code = "local m = " + code + ";\n{ rules: m.prometheusRules, alerts: m.prometheusAlerts }"
		}
		vm := jsonnet.MakeVM()
		vm.Importer(&vendoredImporter{embedImporter{fsys: sources}})
		out, err := vm.EvaluateAnonymousSnippet("README example", code)
		if err != nil {
			t.Errorf("example %d: %v\n%s", n+1, err, code)
			continue
		}
		if !strings.Contains(out, want[n]) {
			t.Errorf("example %d renders no %s", n+1, want[n])
		}
	}
}
