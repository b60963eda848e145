package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestSourceLoad(t *testing.T) {
	t.Setenv(KeyEnv, "env-key")
	tests := []struct {
		name    string
		src     Source
		account string
		key     string
		err     string
	}{
		{"file wins over flags", Source{File: "testdata/valid.yml", DefaultURL: "https://api.vocode.dev", KeyFile: "testdata/production.key"}, "production", "vocode-key-production", ""},
		{"key file wins over the environment", Source{DefaultURL: "https://api.vocode.dev", KeyFile: filepath.Join("testdata", "production.key")}, DefaultAccountName, "vocode-key-production", ""},
		{"environment", Source{DefaultURL: "https://api.vocode.dev"}, DefaultAccountName, "env-key", ""},
		{"expected from flags", Source{DefaultURL: "https://api.vocode.dev", Expected: map[string]int{"twilio": 2}}, DefaultAccountName, "env-key", ""},
		{"broken file", Source{File: "testdata/invalid_unknown_key.yml", DefaultURL: "https://api.vocode.dev"}, "", "", `unknown key "api_kee"`},
		{"bad URL", Source{DefaultURL: "http://api.vocode.dev"}, "", "", "refusing plain http://"},
		{"expected from flags with a file", Source{File: "testdata/valid.yml", Expected: map[string]int{"twilio": 1}}, "", "", "with --config.file, set expected_connections per account in the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.src.Load()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Load = %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			first := cfg.Accounts()[0]
			if first.Name != tt.account || first.Key() != tt.key {
				t.Errorf("first account %s with key %q, want %s with %q", first, first.Key(), tt.account, tt.key)
			}
			if tt.src.File == "" && fmt.Sprint(first.Expected) != fmt.Sprint(tt.src.Expected) {
				t.Errorf("expected connections %v, want the flags' %v", first.Expected, tt.src.Expected)
			}
		})
	}
}
