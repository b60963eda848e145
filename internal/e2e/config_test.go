package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

const reloadFailedMsg = `msg="reload failed; the previous configuration keeps serving"`

// TestReloadBrokenConfigKeepsServing breaks the config file in several ways
// and reloads it both ways: each time the old config keeps serving, and the
// log and the /-/reload answer say what is wrong, without quoting a key.
func TestReloadBrokenConfigKeepsServing(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	fake := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(3, 2), canaryCred),
		vocodetest.WithAPIKey(canaryKey))
	t.Cleanup(fake.Close)
	second := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(1, 1), canaryCred),
		vocodetest.WithAPIKey(canaryKey2))
	t.Cleanup(second.Close)

	dir := t.TempDir()
	keyFile := writeFile(t, dir, "victim.key", canaryKey+"\n")
	cfg := filepath.Join(dir, "config.yml")
	good := fmt.Sprintf("accounts:\n  - name: %s\n    url: %s\n    api_key_file: %s\n", accountName, fake.URL, keyFile)
	replaceFile(t, cfg, good)
	exp := e2e.Start(t, bin, e2e.Options{Args: []string{"--config.file=" + cfg, "--log.level=debug"}})

	_, mfs := scrape(t, exp)
	mustUp(t, mfs, accountName, 1)
	if got := mustValue(t, mfs, "vocode_exporter_config_last_reload_successful"); got != 1 {
		t.Fatalf("config_last_reload_successful = %v at start", got)
	}
	loadedAt := mustValue(t, mfs, "vocode_exporter_config_last_reload_success_timestamp_seconds")

	badKeyFile := writeFile(t, dir, "bad.key", canaryKey+" "+canaryKey2+"\n")
	broken := []struct {
		name, content string
		// answer is in the /-/reload answer; logged in the log line,
		// where logfmt escapes quotes.
		answer, logged string
	}{
		{"unknown key", good + "    bogus: 1\n", `line 5: unknown key "bogus"`, `line 5: unknown key \"bogus\"`},
		{"YAML syntax", "accounts:\n  - name: x\n\tapi_key: y\n", "invalid YAML: line 2: found a tab", "invalid YAML: line 2: found a tab"},
		{"missing key file", strings.Replace(good, keyFile, filepath.Join(dir, "gone.key"), 1),
			"gone.key: no such file or directory", "gone.key: no such file or directory"},
		{"key file unusable", strings.Replace(good, keyFile, badKeyFile, 1),
			"holds white space", "holds white space"},
		{"plain http to a remote host", strings.Replace(good, fake.URL, "http://api.vocode.dev", 1),
			"refusing plain http://", "refusing plain http://"},
		{"inline key, name used twice", good + fmt.Sprintf("  - name: %s\n    api_key: %s\n", accountName, canaryKey2),
			`accounts[1]: name "victim" is already used by accounts[0]`, `accounts[1]: name \"victim\" is already used`},
		{"inline key with a tag", fmt.Sprintf("accounts:\n  - name: x\n    api_key: !!int %s\n", canaryKey2),
			"invalid YAML: cannot decode", "invalid YAML: cannot decode"},
		{"empty file", "", "empty file", "empty file"},
	}
	for i, b := range broken {
		t.Run(b.name, func(t *testing.T) {
			replaceFile(t, cfg, b.content)

			code, answer := postReload(t, exp)
			if code != http.StatusInternalServerError {
				t.Errorf("POST /-/reload answered %d, want 500", code)
			}
			if !strings.Contains(answer, "reload failed") || !strings.Contains(answer, b.answer) {
				t.Errorf("POST /-/reload answered %q, want the reason %q", answer, b.answer)
			}
			assertNoSecrets(t, "the /-/reload answer", answer)

			if err := exp.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			// One line for the POST, one for the SIGHUP, per file so far.
			lines := waitLines(exp, 2*(i+1), reloadFailedMsg)
			if len(lines) != 2*(i+1) {
				t.Fatalf("%d reload failure lines after %d broken files, want %d", len(lines), i+1, 2*(i+1))
			}
			for _, line := range lines[2*i:] {
				if levelOf(line) != "ERROR" || !strings.Contains(line, b.logged) {
					t.Errorf("reload failure logged as %s; want level ERROR and %q", line, b.logged)
				}
			}

			body, mfs := scrape(t, exp)
			assertNoSecrets(t, "/metrics", body)
			mustUp(t, mfs, accountName, 1)
			if got := mustValue(t, mfs, "vocode_account_connections", "account", accountName, "type", "twilio"); got != 3 {
				t.Errorf("the old config serves %v twilio connections, want 3", got)
			}
			if got := mustValue(t, mfs, "vocode_exporter_config_last_reload_successful"); got != 0 {
				t.Errorf("config_last_reload_successful = %v after a failed reload", got)
			}
			if got := mustValue(t, mfs, "vocode_exporter_config_last_reload_success_timestamp_seconds"); got != loadedAt {
				t.Errorf("the success timestamp moved on a failed reload: %v → %v", loadedAt, got)
			}
		})
	}

	t.Run("fixed, with a second account", func(t *testing.T) {
		keyFile2 := writeFile(t, dir, "second.key", canaryKey2+"\n")
		replaceFile(t, cfg, good+fmt.Sprintf("  - name: second\n    url: %s\n    api_key_file: %s\n", second.URL, keyFile2))
		time.Sleep(10 * time.Millisecond) // a timestamp that can move
		code, answer := postReload(t, exp)
		if code != http.StatusOK || !strings.Contains(answer, "configuration reloaded") {
			t.Fatalf("POST /-/reload answered %d %q", code, answer)
		}
		_, mfs := scrape(t, exp)
		mustUp(t, mfs, accountName, 1)
		mustUp(t, mfs, "second", 1)
		if got := mustValue(t, mfs, "vocode_exporter_config_last_reload_successful"); got != 1 {
			t.Errorf("config_last_reload_successful = %v after a good reload", got)
		}
		if got := mustValue(t, mfs, "vocode_exporter_config_last_reload_success_timestamp_seconds"); got <= loadedAt {
			t.Errorf("the success timestamp did not move: %v → %v", loadedAt, got)
		}
	})
	t.Run("account removed", func(t *testing.T) {
		replaceFile(t, cfg, good)
		if err := exp.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitLines(exp, 3, `msg="configuration loaded"`)
		_, mfs := scrape(t, exp)
		mustUp(t, mfs, accountName, 1)
		for name := range mfs {
			if len(series(mfs, name, "account", "second")) > 0 {
				t.Errorf("%s still has series of the removed account", name)
			}
		}
	})
	assertProcessClean(t, exp)
}

// switchingAPI serves one fake at a time behind a fixed URL, so that a key
// rotation can happen on the API side without the URL changing.
type switchingAPI struct {
	current atomic.Pointer[vocodetest.API]
	*httptest.Server
}

func newSwitchingAPI(t *testing.T, first *vocodetest.API) *switchingAPI {
	s := &switchingAPI{}
	s.current.Store(first)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.current.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestKeyRotation rotates the API key: the API accepts only the new key,
// the key file holds it, and a reload (SIGHUP or POST /-/reload) makes the
// exporter use it, with no restart.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	for _, how := range []string{"config file, SIGHUP", "--vocode.api-key-file, POST /-/reload"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			conns := vocodetest.WithCredentials(vocodetest.Dataset(3, 2), canaryCred)
			oldAPI := vocodetest.NewAPI(conns, vocodetest.WithAPIKey(canaryKey))
			newAPI := vocodetest.NewAPI(conns, vocodetest.WithAPIKey(rotatedKey))
			t.Cleanup(oldAPI.Close)
			t.Cleanup(newAPI.Close)
			api := newSwitchingAPI(t, oldAPI)

			dir := t.TempDir()
			keyFile := writeFile(t, dir, "api.key", canaryKey+"\n")
			acct := "default"
			var args []string
			if strings.HasPrefix(how, "config file") {
				acct = accountName
				cfg := filepath.Join(dir, "config.yml")
				writeConfig(t, cfg, account{accountName, api.URL, keyFile})
				args = []string{"--config.file=" + cfg}
			} else {
				args = []string{"--vocode.url=" + api.URL, "--vocode.api-key-file=" + keyFile}
			}
			exp := e2e.Start(t, bin, e2e.Options{Args: append(args, "--log.level=debug")})

			_, mfs := scrape(t, exp)
			mustUp(t, mfs, acct, 1)

			// The key rotates: the API takes only the new one, the file
			// holds it. Until a reload the exporter still sends the old.
			api.current.Store(newAPI)
			replaceFile(t, keyFile, rotatedKey+"\n")
			_, mfs = scrape(t, exp)
			mustUp(t, mfs, acct, 0)
			if got := mustValue(t, mfs, "vocode_scrape_errors_total", "account", acct, "collector", "connections", "reason", "auth"); got != 1 {
				t.Errorf("the old key's rejection counted as %v auth errors, want 1", got)
			}

			if strings.Contains(how, "SIGHUP") {
				if err := exp.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				waitLines(exp, 2, `msg="configuration loaded"`)
			} else if code, answer := postReload(t, exp); code != http.StatusOK {
				t.Fatalf("POST /-/reload answered %d %q", code, answer)
			}
			body, mfs := scrape(t, exp)
			mustUp(t, mfs, acct, 1)
			if got := mustValue(t, mfs, "vocode_account_connections", "account", acct, "type", "twilio"); got != 3 {
				t.Errorf("%v twilio connections with the new key, want 3", got)
			}
			assertNoSecrets(t, "/metrics", body)
			auths := newAPI.Stats().Authorization
			if len(auths) != 2 || !slices.Contains(auths, "Bearer "+rotatedKey) || !slices.Contains(auths, "Bearer "+canaryKey) {
				t.Errorf("the API received %d distinct keys, want the old one (before the reload) and the rotated one", len(auths))
			}
			assertProcessClean(t, exp)
		})
	}
}

// runConfigCheck runs --config.check; it returns the exit code and output.
func runConfigCheck(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config.check"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("--config.check did not run: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestConfigCheck runs --config.check on every invalid file of the config
// tests: exit 1, and the reason the config package gives, word for word.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	bin := e2e.Build(t)
	testdata := filepath.Join(e2e.RepoRoot(), "config", "testdata")
	files, err := filepath.Glob(filepath.Join(testdata, "invalid_*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid config files in %s (%v)", testdata, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			_, loadErr := config.Load(file, "https://api.vocode.dev")
			if loadErr == nil {
				t.Fatalf("%s loads: an invalid_ file must not", file)
			}
			code, stdout, stderr := runConfigCheck(t, bin, nil, "--config.file="+file)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			want := "configuration is invalid: " + loadErr.Error() + "\n"
			if stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}

	dir := t.TempDir()
	writeFile(t, dir, "canary.key", canaryKey+"\n")
	for _, tc := range []struct {
		name    string
		env     []string
		args    []string
		code    int
		has     string // in stderr when code is 1, stdout when 0
		secrets bool
	}{
		{name: "valid fixture", args: []string{"--config.file=" + filepath.Join(testdata, "valid.yml")},
			code: 0, has: "configuration is valid: 3 account(s)"},
		{name: "valid, inline key shown as <secret>", code: 0, has: "api_key: <secret>", secrets: true,
			args: []string{"--config.file=" + writeFile(t, dir, "inline.yml", "accounts:\n  - name: a\n    api_key: "+canaryKey+"\n")}},
		{name: "valid, key file named not read out", code: 0, has: "api_key_file: " + filepath.Join(dir, "canary.key"), secrets: true,
			args: []string{"--config.file=" + writeFile(t, dir, "file.yml", "accounts:\n  - name: a\n    api_key_file: canary.key\n")}},
		{name: "invalid, tagged inline key", code: 1, has: "cannot decode", secrets: true,
			args: []string{"--config.file=" + writeFile(t, dir, "tagged.yml", "accounts:\n  - name: a\n    api_key: !!float "+canaryKey+"\n")}},
		{name: "invalid, key not a header value", code: 1, has: "holds white space", secrets: true,
			args: []string{"--config.file=" + writeFile(t, dir, "spaced.yml", "accounts:\n  - name: a\n    api_key: \""+canaryKey+" x\"\n")}},
		{name: "no config file, key from the environment", env: []string{"VOCODE_API_KEY=" + canaryKey},
			code: 0, has: "configuration is valid: 1 account(s)", secrets: true},
		{name: "no config file, no key", code: 1, has: "no API key"},
		{name: "no config file, plain http to a remote host", env: []string{"VOCODE_API_KEY=" + canaryKey},
			args: []string{"--vocode.url=http://api.vocode.dev"}, code: 1, has: "refusing plain http://", secrets: true},
		{name: "missing config file", args: []string{"--config.file=" + filepath.Join(dir, "nope.yml")},
			code: 1, has: "no such file or directory"},
		// Every walk needs a deadline: no timeout is no longer "no limit".
		{name: "zero walk timeout", env: []string{"VOCODE_API_KEY=" + canaryKey}, args: []string{"--vocode.timeout=0"},
			code: 1, has: "--vocode.timeout must be positive, got 0s: every walk needs a deadline"},
		{name: "negative walk timeout", env: []string{"VOCODE_API_KEY=" + canaryKey}, args: []string{"--vocode.timeout=-5s"},
			code: 1, has: "--vocode.timeout must be positive, got -5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runConfigCheck(t, bin, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			out := stdout
			if tc.code != 0 {
				out = stderr
			}
			if !strings.Contains(out, tc.has) {
				t.Errorf("output %q lacks %q", out, tc.has)
			}
			if tc.secrets {
				assertNoSecrets(t, "the --config.check output", stdout+stderr)
			}
		})
	}
}
