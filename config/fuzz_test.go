package config_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// fuzzKey stands for an API key. Seeds write fuzzKeyPlaceholder where a key
// goes; the fuzz function swaps the key in before parsing.
const (
	fuzzKey            = "vcdFUZZcanaryKey7Lq2Xp9"
	fuzzKeyPlaceholder = "@KEY@"
	defaultURL         = "https://api.vocode.dev"
)

var accountName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// FuzzParse feeds the config parser anything at all. Whatever the input: no
// panic; an error or a config, never both or neither; a key never quoted in
// an error nor printed by YAML(); and a config that is valid, prints, and
// parses back to the same accounts.
func FuzzParse(f *testing.F) {
	// Key files the seeds name, relative to the config's folder: a good
	// key, and one that cannot go into a header.
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good.key"), []byte(fuzzKey+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.key"), []byte(fuzzKey+" and more\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	// The fixtures of the config tests are seeds too; more live in
	// testdata/fuzz/FuzzParse.
	files, _ := filepath.Glob("testdata/*.yml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("accounts:\n  - name: production\n    api_key: @KEY@\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		data = bytes.ReplaceAll(data, []byte(fuzzKeyPlaceholder), []byte(fuzzKey))
		cfg, err := config.Parse(data, defaultURL, dir)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v: want exactly one", cfg, err)
		}
		secret := keyOnlyInKeyValues(data)
		if err != nil {
			if secret && leaksKey(err.Error()) {
				t.Fatalf("the error quotes the key: %v", err)
			}
			return
		}
		checkConfig(t, cfg, dir, secret)
	})
}

// leaksKey reports whether s holds the key or the start of it the YAML
// decoder quotes (its first 7 characters).
func leaksKey(s string) bool {
	return strings.Contains(s, fuzzKey) || strings.Contains(s, fuzzKey[:7])
}

// keyOnlyInKeyValues reports whether the key appears in data only inside
// api_key values (or not at all), so that any trace of it in an error or in
// the printed config is a leak. Elsewhere (a name, a URL, a map key) the
// key is just text, which errors may rightly quote.
func keyOnlyInKeyValues(data []byte) bool {
	if !bytes.Contains(data, []byte(fuzzKey[:7])) {
		return true
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// Where it sits is unknown: an error must quote no scalar, but it
		// may name an anchor, an alias or a tag.
		return !inYAMLName(data)
	}
	ok := true
	var walk func(n *yaml.Node, underKey bool)
	walk = func(n *yaml.Node, underKey bool) {
		if strings.Contains(n.Anchor+n.Tag+n.LineComment+n.HeadComment+n.FootComment, fuzzKey[:7]) {
			ok = false
		}
		switch n.Kind {
		case yaml.ScalarNode, yaml.AliasNode:
			if !underKey && strings.Contains(n.Value, fuzzKey[:7]) {
				ok = false
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i], false)
				walk(n.Content[i+1], n.Content[i].Value == "api_key")
			}
		default:
			for _, c := range n.Content {
				walk(c, false)
			}
		}
	}
	walk(&doc, false)
	return ok
}

// inYAMLName reports whether the key is part of a token that names an
// anchor (&), an alias (*) or a tag (!).
func inYAMLName(data []byte) bool {
	prefix := []byte(fuzzKey[:7])
	for i := 0; ; {
		j := bytes.Index(data[i:], prefix)
		if j < 0 {
			return false
		}
		start := i + j
		for start > 0 && !bytes.ContainsAny(data[start-1:start], " \t\r\n,[]{}:") {
			start--
		}
		if bytes.ContainsAny(data[start:start+1], "*&!") {
			return true
		}
		i += j + 1
	}
}

func checkConfig(t *testing.T, cfg *config.Config, dir string, secret bool) {
	t.Helper()
	accts := cfg.Accounts()
	if len(accts) == 0 {
		t.Fatal("a valid config without accounts")
	}
	seen := map[string]bool{}
	for _, a := range accts {
		if !accountName.MatchString(a.Name) {
			t.Fatalf("account name %q accepted", a.Name)
		}
		if seen[a.Name] {
			t.Fatalf("account name %q accepted twice", a.Name)
		}
		seen[a.Name] = true
		if _, err := vocode.ParseBaseURL(a.URL); err != nil {
			t.Fatalf("account %s: URL accepted that the client refuses: %v", a.Name, err)
		}
		key := a.Key()
		if key == "" || strings.TrimSpace(key) != key {
			t.Fatalf("account %s: key %q accepted", a.Name, key)
		}
		for _, r := range key {
			if r < 0x21 || r > 0x7e {
				t.Fatalf("account %s: key with %q accepted: it cannot go into a header", a.Name, r)
			}
		}
		if secret && leaksKey(fmt.Sprintf("%v %+v %s", a, a, a.String())) {
			t.Fatalf("printing the account shows its key: %v", a)
		}
	}
	out := cfg.YAML()
	if secret && leaksKey(out) {
		t.Fatalf("YAML() shows a key:\n%s", out)
	}
	// What YAML() prints is a config that parses back to the same accounts.
	again, err := config.Parse([]byte(out), defaultURL, dir)
	if err != nil {
		t.Fatalf("YAML() printed a config that does not parse: %v\n%s", err, out)
	}
	back := again.Accounts()
	if len(back) != len(accts) {
		t.Fatalf("%d accounts printed back as %d", len(accts), len(back))
	}
	for i := range accts {
		if back[i].Name != accts[i].Name || back[i].URL != accts[i].URL || back[i].KeySource != accts[i].KeySource {
			t.Fatalf("account %d printed back as %s, was %s", i, back[i], accts[i])
		}
	}
}
