package mixin

import (
	"encoding/json"
	"os"
	"reflect"
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

// TestREADMEConfigTable compares the `_config` tables of README.md with
// config.libsonnet: every field has one row, and the row's default is the
// field's. In the first table a row is `field` | `default` | meaning; in
// the second, alert | the fields (in backquotes, with remarks) | their
// defaults in the same order.
func TestREADMEConfigTable(t *testing.T) {
	vm := jsonnet.MakeVM()
	vm.Importer(&embedImporter{fsys: sources})
	out, err := vm.EvaluateAnonymousSnippet("config", "(import 'config.libsonnet')._config")
	if err != nil {
		t.Fatal(err)
	}
	var config map[string]any
	if err := json.Unmarshal([]byte(out), &config); err != nil {
		t.Fatal(err)
	}

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## `_config`\n")
	if !ok {
		t.Fatal("README.md has no `_config` section")
	}
	section, _, _ = strings.Cut(section, "\n## ")

	documented := map[string]string{} // field: its default as the README writes it
	document := func(line int, field, def string) {
		if _, dup := documented[field]; dup {
			t.Errorf("README.md `_config` line %d: %s has a second row", line, field)
		}
		documented[field] = def
	}
	for n, line := range strings.Split(section, "\n") {
		cells := tableCells(line)
		if len(cells) < 3 || strings.HasPrefix(cells[0], "---") || cells[0] == "field" || cells[0] == "alert" {
			continue
		}
		if f := backquoted.FindAllStringSubmatch(cells[0], -1); len(f) == 1 && f[0][0] == cells[0] {
			document(n, f[0][1], strings.Trim(cells[1], "`"))
			continue
		}
		var fields []string
		for _, m := range backquoted.FindAllStringSubmatch(cells[1], -1) {
			if configField.MatchString(m[1]) {
				fields = append(fields, m[1])
			}
		}
		var defaults []string
		for _, m := range backquoted.FindAllStringSubmatch(cells[2], -1) {
			defaults = append(defaults, m[1])
		}
		if len(fields) == 0 || len(fields) != len(defaults) {
			t.Errorf("README.md `_config` line %d: fields %v, defaults %v: want one default each\n%s", n, fields, defaults, line)
			continue
		}
		for i, f := range fields {
			document(n, f, defaults[i])
		}
	}

	for field, value := range config {
		def, ok := documented[field]
		if !ok {
			t.Errorf("README.md's `_config` tables lack field %s (default %v)", field, value)
			continue
		}
		if !sameDefault(t, value, def) {
			t.Errorf("README.md's `_config` tables give %s the default %s, config.libsonnet %#v", field, def, value)
		}
	}
	for field := range documented {
		if _, ok := config[field]; !ok {
			t.Errorf("README.md's `_config` tables list %s, which config.libsonnet does not have", field)
		}
	}
}

var (
	backquoted  = regexp.MustCompile("`([^`]*)`")
	configField = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
)

// tableCells splits a Markdown table row into its trimmed cells, with \|
// read as |.
func tableCells(line string) []string {
	if !strings.HasPrefix(line, "|") {
		return nil
	}
	line = strings.ReplaceAll(strings.Trim(line, "|"), `\|`, "\x00")
	cells := strings.Split(line, "|")
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(strings.TrimSpace(c), "\x00", "|")
	}
	return cells
}

// sameDefault reports whether the README's def is value: a string as it
// is written, anything else as jsonnet evaluating to the same JSON.
func sameDefault(t *testing.T, value any, def string) bool {
	t.Helper()
	if s, ok := value.(string); ok {
		return s == def
	}
	out, err := jsonnet.MakeVM().EvaluateAnonymousSnippet("README default", def)
	if err != nil {
		t.Errorf("README default %s: %v", def, err)
		return false
	}
	var got any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(got, value)
}
