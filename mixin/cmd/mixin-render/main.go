// Command mixin-render writes the mixin's rule file and dashboards, rendered
// with an optional _config override: `make generate` runs it with the
// defaults to write alerts/vocode.rules.yml and dashboards/vocode.json.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vocode-exporter/vocode_exporter/mixin"
)

func main() {
	rulesDir := flag.String("rules-dir", ".", "directory to write "+mixin.RulesFile+" to")
	dashboardsDir := flag.String("dashboards-dir", ".", "directory to write the dashboards (vocode.json) to")
	config := flag.String("config", "", `jsonnet object merged into the mixin's _config, e.g. '{vocodeSelector: "job=\"vocode-prod\""}'`)
	flag.Parse()
	if err := run(*rulesDir, *dashboardsDir, *config); err != nil {
		fmt.Fprintln(os.Stderr, "mixin-render:", err)
		os.Exit(1)
	}
}

func run(rulesDir, dashboardsDir, config string) error {
	files, err := mixin.Render(config)
	if err != nil {
		return err
	}
	for name, content := range files {
		dir := dashboardsDir
		if name == mixin.RulesFile {
			dir = rulesDir
		}
		// 0644: the files are shipped and read by anyone.
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
