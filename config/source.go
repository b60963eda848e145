package config

import (
	"errors"
	"os"
)

// KeyEnv is the environment variable that holds the API key of the account
// the flags describe.
const KeyEnv = "VOCODE_API_KEY"

// Source says where the configuration comes from: a file of accounts, or
// the flags and environment describing the single account "default". It
// holds no key: keys are read on every Load, so a reload picks up a rotated
// key file.
type Source struct {
	File       string // --config.file; when set, only DefaultURL is used besides
	DefaultURL string // --vocode.url
	KeyFile    string // --vocode.api-key-file; without it the key is $VOCODE_API_KEY
	// Expected is --vocode.expected-connections, from ParseExpected: for
	// the account the flags describe only.
	Expected map[string]int
}

// Load reads the configuration from the source, key files included.
func (s Source) Load() (*Config, error) {
	if s.File != "" {
		if len(s.Expected) > 0 {
			return nil, errors.New("--vocode.expected-connections is for the account the flags describe; with --config.file, set expected_connections per account in the file")
		}
		return Load(s.File, s.DefaultURL)
	}
	cfg, err := FromFlags(s.DefaultURL, s.KeyFile, os.Getenv(KeyEnv))
	if err != nil {
		return nil, err
	}
	cfg.accounts[0].Expected = s.Expected
	return cfg, nil
}
