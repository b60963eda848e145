package mixin

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/formatter"
	"github.com/google/go-jsonnet/linter"
)

// jsonnetFiles lists the mixin's jsonnet sources.
func jsonnetFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(sources, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(path, ".libsonnet") || strings.HasSuffix(path, ".jsonnet") {
			b, err := fs.ReadFile(sources, path)
			if err != nil {
				return err
			}
			files[path] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no jsonnet files embedded")
	}
	return files
}

// TestJsonnetFormatted is jsonnetfmt --test: every file as go-jsonnet's
// formatter (default options) would write it.
func TestJsonnetFormatted(t *testing.T) {
	for path, code := range jsonnetFiles(t) {
		want, err := formatter.Format(path, code, formatter.DefaultOptions())
		if err != nil {
			t.Errorf("mixin/%s: %v", path, err)
			continue
		}
		if want != code {
			t.Errorf("mixin/%s is not formatted: run jsonnetfmt -i on it\n%s", path, firstDifference([]byte(code), []byte(want)))
		}
	}
}

// TestJsonnetLint is jsonnet-lint over every file: unused locals,
// unknown variables and fields, imports that do not resolve.
func TestJsonnetLint(t *testing.T) {
	var snippets []linter.Snippet
	for path, code := range jsonnetFiles(t) {
		snippets = append(snippets, linter.Snippet{FileName: path, Code: code})
	}
	vm := jsonnet.MakeVM()
	vm.Importer(&embedImporter{fsys: sources})
	var out strings.Builder
	if linter.LintSnippet(vm, &out, snippets) {
		t.Errorf("jsonnet-lint:\n%s", out.String())
	}
}
