package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadValid(t *testing.T) {
	cfg, err := Load("testdata/valid.yml", "https://api.vocode.dev")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Accounts()
	want := []struct{ name, url, key, source string }{
		{"production", "https://api.vocode.dev", "vocode-key-production", filepath.Join("testdata", "production.key")},
		{"staging-eu", "https://staging.example.com/", "staging-inline-key", "api_key"},
		{"local_fake", "http://127.0.0.1:10402", "demo", "api_key"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d accounts, want %d", len(got), len(want))
	}
	for i, w := range want {
		a := got[i]
		if a.Name != w.name || a.URL != w.url || a.Key() != w.key || a.KeySource != w.source {
			t.Errorf("account %d = %s key %q, want %+v", i, a, a.Key(), w)
		}
	}
	if e := got[0].Expected; len(e) != 3 || e["twilio"] != 3 || e["openai"] != 1 || e["telnyx"] != 0 {
		t.Errorf("expected connections of %s = %v", got[0].Name, e)
	}
	if got[1].Expected != nil {
		t.Errorf("expected connections of %s = %v, want none", got[1].Name, got[1].Expected)
	}
}

func TestParseExpected(t *testing.T) {
	tests := []struct {
		in   []string
		want map[string]int
		err  string
	}{
		{nil, nil, ""},
		{[]string{"twilio=3"}, map[string]int{"twilio": 3}, ""},
		{[]string{"twilio=3", "openai=0", "telnyx=1"}, map[string]int{"twilio": 3, "openai": 0, "telnyx": 1}, ""},
		{[]string{"twilio"}, nil, `"twilio" is not TYPE=COUNT (as in twilio=3)`},
		{[]string{"twilio=2.5"}, nil, `"twilio=2.5": the count "2.5" is not a whole number`},
		{[]string{"twilio=-1"}, nil, "twilio: -1 is negative"},
		{[]string{"twilio=3", "twilio=4"}, nil, `type "twilio" is given twice`},
		{[]string{"Twilio=3"}, nil, `type "Twilio" may hold only lower-case letters`},
		{[]string{"=3"}, nil, `type "" may hold only`},
	}
	for _, tt := range tests {
		got, err := ParseExpected(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseExpected(%q) = %v, want an error with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ParseExpected(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// Each invalid file fails with an error that says exactly what is wrong and
// where, and never quotes a key.
func TestLoadInvalid(t *testing.T) {
	tests := map[string]string{
		"invalid_unknown_key.yml":       `line 3: unknown key "api_kee"`,
		"invalid_duplicate_name.yml":    `accounts[1]: name "production" is already used by accounts[0]`,
		"invalid_name.yml":              `accounts[0]: name "prod eu" may hold only letters, digits, '_' and '-'`,
		"invalid_missing_name.yml":      `accounts[0]: name is missing`,
		"invalid_both_keys.yml":         `accounts[0]: account production: set api_key or api_key_file, not both`,
		"invalid_no_key.yml":            `accounts[0]: account production: api_key or api_key_file is required`,
		"invalid_http_url.yml":          `accounts[0]: account production: refusing plain http:// API URL for non-loopback host "api.vocode.dev": the API key would travel in clear; use https://`,
		"invalid_missing_key_file.yml":  `accounts[0]: account production: API key file: open testdata/does-not-exist.key: no such file or directory`,
		"invalid_empty_key_file.yml":    `accounts[0]: account production: API key file testdata/empty.key is empty`,
		"invalid_no_accounts.yml":       `no accounts: list at least one under ` + "`accounts`",
		"invalid_empty.yml":             `empty file: it must list at least one account under ` + "`accounts`",
		"invalid_syntax.yml":            `invalid YAML: line 2: found a tab character that violates indentation`,
		"invalid_top_level_key.yml":     `line 1: unknown key "account"`,
		"invalid_account_not_map.yml":   "line 2: each account must be a map of name, url and api_key or api_key_file, not a str",
		"invalid_wrong_type.yml":        "line 2: `accounts` must be a list of accounts, not a map",
		"invalid_expected_negative.yml": `accounts[0]: account production: expected_connections: twilio: -1 is negative; the count is a whole number of 0 or more`,
		"invalid_expected_fraction.yml": `line 5: a count must be a whole number of 0 or more, as in twilio: 3`,
		"invalid_expected_string.yml":   `line 5: a count must be a whole number of 0 or more, as in twilio: 3`,
		"invalid_expected_type.yml":     `accounts[0]: account production: expected_connections: type "Twilio Inc" may hold only lower-case letters, digits and '_' (as in twilio, openai)`,
		"invalid_expected_list.yml":     "line 4: expected_connections must be a map of type: count, as in twilio: 3, not a seq",
	}
	files, _ := filepath.Glob("testdata/invalid_*.yml")
	if len(files) != len(tests) {
		t.Errorf("%d invalid_*.yml files, %d cases: every fixture needs its expected error", len(files), len(tests))
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			_, err := Load(path, "https://api.vocode.dev")
			if err == nil {
				t.Fatal("loaded without error")
			}
			if got, full := err.Error(), fmt.Sprintf("config file %s: %s", path, want); got != full {
				t.Errorf("error:\n got %s\nwant %s", got, full)
			}
		})
	}
}

func TestFromFlags(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("  file-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, keyFile, env string
		wantKey, wantSource     string
		wantErr                 string
	}{
		{name: "key file wins over env", url: "https://api.vocode.dev", keyFile: keyFile, env: "env-key", wantKey: "file-key", wantSource: keyFile},
		{name: "env", url: "https://api.vocode.dev", env: "env-key\n", wantKey: "env-key", wantSource: "$VOCODE_API_KEY"},
		{name: "no key", url: "https://api.vocode.dev", wantErr: "no API key: set $VOCODE_API_KEY, --vocode.api-key-file, or accounts in --config.file"},
		{name: "key with a space", url: "https://api.vocode.dev", env: "two words", wantErr: "$VOCODE_API_KEY holds white space or characters that cannot go into an HTTP header"},
		{name: "plain http", url: "http://example.com", env: "secret-k", wantErr: `--vocode.url: refusing plain http:// API URL for non-loopback host "example.com"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromFlags(tt.url, tt.keyFile, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if tt.env != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.env)) {
					t.Errorf("error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := cfg.Accounts()[0]
			if a.Name != DefaultAccountName || a.Key() != tt.wantKey || a.KeySource != tt.wantSource {
				t.Errorf("got %s with key %q", a, a.Key())
			}
		})
	}
}

// What --config.check prints and what String() gives must not hold keys.
func TestRenderingHidesKeys(t *testing.T) {
	cfg, err := Load("testdata/valid.yml", "https://api.vocode.dev")
	if err != nil {
		t.Fatal(err)
	}
	out := cfg.YAML()
	for _, a := range cfg.Accounts() {
		out += a.String() + fmt.Sprintf("%v %+v", a, a)
	}
	for _, key := range []string{"vocode-key-production", "staging-inline-key"} {
		if strings.Contains(out, key) {
			t.Errorf("rendering shows key %q:\n%s", key, out)
		}
	}
	if !strings.Contains(out, "api_key: <secret>") || !strings.Contains(out, "api_key_file: testdata/production.key") {
		t.Errorf("rendering lost information:\n%s", out)
	}
}

func TestKeyFileReadFresh(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	cfgFile := filepath.Join(dir, "c.yml")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cfgFile, "accounts:\n  - name: a\n    api_key_file: k\n")
	for _, want := range []string{"first", "rotated"} {
		write(key, want+"\n")
		cfg, err := Load(cfgFile, "https://api.vocode.dev")
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Accounts()[0].Key(); got != want {
			t.Errorf("key = %q, want %q", got, want)
		}
	}
}

// An inline key loses surrounding white space, as a key file does: a YAML
// block scalar brings a newline with it.
func TestInlineKeyTrimmed(t *testing.T) {
	cfg, err := Parse([]byte("accounts:\n  - name: a\n    api_key: |\n      the-key\n"), "https://api.vocode.dev", ".")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts()[0].Key(); got != "the-key" {
		t.Errorf("key = %q, want %q", got, "the-key")
	}
}
