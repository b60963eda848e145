// Package mixin renders vocode_exporter's monitoring mixin (the jsonnet
// beside this file) into the Prometheus rule file and the Grafana
// dashboards, with go-jsonnet. The jsonnet sources are embedded, so callers
// in other modules (tests, the Helm chart's generator) need no path to them.
package mixin

import (
	"embed"
	"fmt"
	"io/fs"
	"path"

	"github.com/google/go-jsonnet"
)

// sources holds the mixin's jsonnet files, by their path in mixin/.
//
//go:embed *.libsonnet render.jsonnet lib rules dashboards
var sources embed.FS

// RulesFile is the name of the rendered rule file; the dashboards are named
// by the mixin's grafanaDashboards keys (vocode.json).
const RulesFile = "vocode.rules.yml"

// Render evaluates render.jsonnet with config, a jsonnet (or JSON) object
// merged into the mixin's _config ("" or "{}" for the defaults), and
// returns each output file's content by name: RulesFile and the dashboards.
func Render(config string) (map[string][]byte, error) {
	if config == "" {
		config = "{}"
	}
	vm := jsonnet.MakeVM()
	vm.Importer(&embedImporter{fsys: sources})
	vm.StringOutput = true
	vm.TLACode("config", config)
	main, err := sources.ReadFile("render.jsonnet")
	if err != nil {
		return nil, err
	}
	out, err := vm.EvaluateAnonymousSnippetMulti("render.jsonnet", string(main))
	if err != nil {
		return nil, fmt.Errorf("render the mixin: %w", err)
	}
	files := make(map[string][]byte, len(out))
	for name, content := range out {
		files[name] = []byte(content)
	}
	return files, nil
}

// embedImporter resolves imports relative to the importing file inside an
// fs.FS, as the jsonnet command does on disk.
type embedImporter struct {
	fsys  fs.FS
	cache map[string]jsonnet.Contents
}

func (i *embedImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	p := path.Join(path.Dir(importedFrom), importedPath)
	if c, ok := i.cache[p]; ok {
		return c, p, nil
	}
	b, err := fs.ReadFile(i.fsys, p)
	if err != nil {
		return jsonnet.Contents{}, "", fmt.Errorf("import %q from %q: %w", importedPath, importedFrom, err)
	}
	if i.cache == nil {
		i.cache = map[string]jsonnet.Contents{}
	}
	c := jsonnet.MakeContents(string(b))
	i.cache[p] = c
	return c, p, nil
}
