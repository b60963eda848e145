// Package config loads and validates the exporter's accounts: the file given
// with --config.file, or the single account the flags describe.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	promconfig "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// DefaultAccountName names the account configured by flags alone.
const DefaultAccountName = "default"

// Config is a validated set of accounts. The only ways to get one are Load
// and FromFlags, which check it, so holders never re-validate.
type Config struct {
	accounts []Account
}

// Account is one Vocode account to walk.
type Account struct {
	Name string // value of the `account` label
	URL  string // API base URL, checked by vocode.ParseBaseURL
	// KeySource says where the key came from ("api_key", a file path, or
	// $VOCODE_API_KEY); it is safe to print, the key is not.
	KeySource string
	key       promconfig.Secret
	// Expected holds the least number of connections of each type the
	// account should have ("twilio": 3); nil when none is configured.
	Expected map[string]int
}

// Key returns the API key. It is the one place the key is handed out: to
// the API client that puts it in the Authorization header.
func (a Account) Key() string { return string(a.key) }

// String describes the account without its key.
func (a Account) String() string {
	return fmt.Sprintf("account %s at %s (key from %s)", a.Name, a.URL, a.KeySource)
}

// Accounts returns the accounts in file order.
func (c *Config) Accounts() []Account { return append([]Account(nil), c.accounts...) }

// file is the YAML shape of the config file.
type file struct {
	Accounts []accountFile `yaml:"accounts"`
}

type accountFile struct {
	Name       string            `yaml:"name"`
	URL        string            `yaml:"url,omitempty"`
	APIKey     promconfig.Secret `yaml:"api_key,omitempty"`
	APIKeyFile string            `yaml:"api_key_file,omitempty"`
	Expected   map[string]count  `yaml:"expected_connections,omitempty"`
}

// count is an expected number of connections. The YAML decoder would take
// 2.5 for an int and keep 2; a count must be written as a whole number.
type count int

func (c *count) UnmarshalYAML(node *yaml.Node) error {
	n, err := strconv.Atoi(node.Value)
	if node.Kind != yaml.ScalarNode || node.ShortTag() != "!!int" || err != nil {
		return valueError(fmt.Sprintf("line %d: a count must be a whole number of 0 or more, as in twilio: 3", node.Line))
	}
	*c = count(n)
	return nil
}

// valueError is a value our decoders refused: well-formed YAML, wrong value.
// Its text names the line and quotes nothing.
type valueError string

func (e valueError) Error() string { return string(e) }

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// validType is a connection type as the `type` label shows it: the API's
// type without its "account_connection_" prefix. Types the exporter does
// not know yet are allowed: the API may add some.
var validType = regexp.MustCompile(`^[a-z0-9_]+$`)

// checkExpected validates expected connection counts: known or unknown type
// names, whole counts of 0 or more. An empty map means none configured.
func checkExpected(in map[string]int) (map[string]int, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]int, len(in))
	for typ, n := range in {
		switch {
		case !validType.MatchString(typ):
			return nil, fmt.Errorf("type %q may hold only lower-case letters, digits and '_' (as in twilio, openai)", typ)
		case n < 0:
			return nil, fmt.Errorf("%s: %d is negative; the count is a whole number of 0 or more", typ, n)
		}
		out[typ] = n
	}
	return out, nil
}

// ParseExpected reads --vocode.expected-connections values, each TYPE=COUNT
// (twilio=3). A type given twice is an error, not a silent override.
func ParseExpected(values []string) (map[string]int, error) {
	raw := map[string]int{}
	for _, v := range values {
		typ, count, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not TYPE=COUNT (as in twilio=3)", v)
		}
		n, err := strconv.Atoi(count)
		if err != nil {
			return nil, fmt.Errorf("%q: the count %q is not a whole number", v, count)
		}
		if _, dup := raw[typ]; dup {
			return nil, fmt.Errorf("type %q is given twice", typ)
		}
		raw[typ] = n
	}
	return checkExpected(raw)
}

// Load reads and validates the config file at path and reads the key files
// it names; relative key file paths are taken from the config file's folder.
// Accounts without a url get defaultURL.
func Load(path, defaultURL string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	cfg, err := Parse(data, defaultURL, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return cfg, nil
}

// Parse validates a config file's content; key files are resolved from dir.
func Parse(data []byte, defaultURL, dir string) (*Config, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: it must list at least one account under `accounts`")
		}
		return nil, yamlError(err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document: the config is one document")
	}
	if len(f.Accounts) == 0 {
		return nil, errors.New("no accounts: list at least one under `accounts`")
	}
	cfg := &Config{}
	first := map[string]int{}
	for i, af := range f.Accounts {
		acc, err := af.resolve(defaultURL, dir)
		if err != nil {
			return nil, fmt.Errorf("accounts[%d]: %w", i, err)
		}
		if j, dup := first[acc.Name]; dup {
			return nil, fmt.Errorf("accounts[%d]: name %q is already used by accounts[%d]", i, acc.Name, j)
		}
		first[acc.Name] = i
		cfg.accounts = append(cfg.accounts, acc)
	}
	return cfg, nil
}

func (af accountFile) resolve(defaultURL, dir string) (Account, error) {
	switch {
	case af.Name == "":
		return Account{}, errors.New("name is missing")
	case !validName.MatchString(af.Name):
		return Account{}, fmt.Errorf("name %q may hold only letters, digits, '_' and '-'", af.Name)
	}
	acc := Account{Name: af.Name, URL: af.URL}
	if af.Expected != nil {
		raw := make(map[string]int, len(af.Expected))
		for typ, n := range af.Expected {
			raw[typ] = int(n)
		}
		expected, err := checkExpected(raw)
		if err != nil {
			return Account{}, fmt.Errorf("account %s: expected_connections: %w", af.Name, err)
		}
		acc.Expected = expected
	}
	if acc.URL == "" {
		acc.URL = defaultURL
	}
	if _, err := vocode.ParseBaseURL(acc.URL); err != nil {
		return Account{}, fmt.Errorf("account %s: %w", af.Name, err)
	}
	switch {
	case af.APIKey != "" && af.APIKeyFile != "":
		return Account{}, fmt.Errorf("account %s: set api_key or api_key_file, not both", af.Name)
	case af.APIKey != "":
		// Surrounding white space (a YAML block scalar's newline, a stray
		// space) is no part of a key, as in key files.
		key := strings.TrimSpace(string(af.APIKey))
		if err := checkKey(key); err != nil {
			return Account{}, fmt.Errorf("account %s: api_key %w", af.Name, err)
		}
		acc.key, acc.KeySource = promconfig.Secret(key), "api_key"
	case af.APIKeyFile != "":
		path := af.APIKeyFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		key, err := ReadKeyFile(path)
		if err != nil {
			return Account{}, fmt.Errorf("account %s: %w", af.Name, err)
		}
		acc.key, acc.KeySource = promconfig.Secret(key), path
	default:
		return Account{}, fmt.Errorf("account %s: api_key or api_key_file is required", af.Name)
	}
	return acc, nil
}

// FromFlags returns the single account "default" when no config file is
// given: the key comes from keyFile if set, else from envKey
// ($VOCODE_API_KEY).
func FromFlags(url, keyFile, envKey string) (*Config, error) {
	if _, err := vocode.ParseBaseURL(url); err != nil {
		return nil, fmt.Errorf("--vocode.url: %w", err)
	}
	acc := Account{Name: DefaultAccountName, URL: url}
	switch {
	case keyFile != "":
		key, err := ReadKeyFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("--vocode.api-key-file: %w", err)
		}
		acc.key, acc.KeySource = promconfig.Secret(key), keyFile
	case envKey != "":
		if err := checkKey(envKey); err != nil {
			return nil, fmt.Errorf("$VOCODE_API_KEY %w", err)
		}
		acc.key, acc.KeySource = promconfig.Secret(strings.TrimSpace(envKey)), "$VOCODE_API_KEY"
	default:
		return nil, errors.New("no API key: set $VOCODE_API_KEY, --vocode.api-key-file, or accounts in --config.file")
	}
	return &Config{accounts: []Account{acc}}, nil
}

// ReadKeyFile reads an API key from a file; surrounding white space (the
// trailing newline of `echo key > file`) is dropped. Errors never quote the
// file's content.
func ReadKeyFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("API key file: %w", err)
	}
	key := strings.TrimSpace(string(data))
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("API key file %s %w", path, err)
	}
	return key, nil
}

// checkKey rejects keys that cannot go into an HTTP header. The error text
// names the problem, never the key.
func checkKey(key string) error {
	key = strings.TrimSpace(key)
	if key == "" {
		return errors.New("is empty")
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return errors.New("holds white space or characters that cannot go into an HTTP header")
		}
	}
	return nil
}

var (
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	notAList     = regexp.MustCompile(`cannot unmarshal (\w+) into \[\]config\.accountFile`)
	notAnAccount = regexp.MustCompile(`cannot unmarshal (\w+) into config\.accountFile`)
	notCounts    = regexp.MustCompile(`cannot unmarshal (\w+) into map\[string\]config\.count`)
	// The decoder quotes scalar values in backticks; a value may be a key.
	quotedValue = regexp.MustCompile("\\s*`[^`]*`")
)

// yamlError rewords the decoder's messages for people: "field x not found in
// type config.accountFile" becomes `unknown key "x"`, with its line.
func yamlError(err error) error {
	var ve valueError
	if errors.As(err, &ve) {
		return ve
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		// Errors of tag resolution quote the value too ("cannot decode
		// !!str `<the key>` as a !!int").
		return fmt.Errorf("invalid YAML: %s", quotedValue.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), ""))
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		m = strings.ReplaceAll(quotedValue.ReplaceAllString(m, ""), "!!", "")
		m = unknownField.ReplaceAllString(m, `unknown key "$1"`)
		m = notAList.ReplaceAllString(m, "`accounts` must be a list of accounts, not a $1")
		m = notAnAccount.ReplaceAllString(m, "each account must be a map of name, url and api_key or api_key_file, not a $1")
		m = notCounts.ReplaceAllString(m, "expected_connections must be a map of type: count, as in twilio: 3, not a $1")
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

// YAML renders the config with keys shown as <secret>, for --config.check.
func (c *Config) YAML() string {
	var f file
	for _, a := range c.accounts {
		af := accountFile{Name: a.Name, URL: a.URL}
		if a.Expected != nil {
			af.Expected = make(map[string]count, len(a.Expected))
			for typ, n := range a.Expected {
				af.Expected[typ] = count(n)
			}
		}
		if a.KeySource == "api_key" || strings.HasPrefix(a.KeySource, "$") {
			af.APIKey = a.key
		} else {
			af.APIKeyFile = a.KeySource
		}
		f.Accounts = append(f.Accounts, af)
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		return fmt.Sprintf("# cannot render config: %v\n", err)
	}
	return string(out)
}
