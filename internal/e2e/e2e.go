// Package e2e builds the real vocode_exporter binary and runs it for
// end-to-end tests: a real process, real flags, a real listener.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// RepoRoot is the exporter's source tree, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BinaryEnv names the environment variable that gives Build a binary
// already built from this tree: `make test` builds the exporter once with a
// plain go build and hands it to every test module, instead of each test
// binary linking its own while the others compile.
const BinaryEnv = "VOCODE_E2E_BINARY"

var (
	buildOnce sync.Once
	buildPath string // built here, so removed by Main
	binPath   string
	buildErr  error
)

// Build compiles the exporter once per test binary and returns its path;
// with BinaryEnv set it returns that binary instead.
func Build(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv(BinaryEnv); p != "" {
			if buildErr = checkBinary(p); buildErr == nil {
				binPath = p
			}
			return
		}
		dir, err := os.MkdirTemp("", "vocode-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "vocode_exporter")
		cmd := exec.Command("go", "build", "-o", buildPath, ".")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		binPath = buildPath
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// checkBinary says why p, the value of BinaryEnv, cannot be the exporter.
func checkBinary(p string) error {
	// Each test runs in its own package's directory: a relative path would
	// name a different file in each.
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s=%s is not an absolute path", BinaryEnv, p)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("%s: %w", BinaryEnv, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s=%s is not an executable file", BinaryEnv, p)
	}
	return nil
}

// RequireEnv names the environment variable that turns a missing tool into
// a failure: CI and `make test` set it to 1, so that tests needing promtool
// or Prometheus can never pass by skipping.
const RequireEnv = "VOCODE_E2E_REQUIRE_PROMETHEUS"

// RequireTool returns the path of a program from Debian's prometheus
// package (promtool, prometheus). Without it the test is skipped, or fails
// when RequireEnv is 1.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s not installed, and %s=1: %v", name, RequireEnv, err)
		}
		t.Skipf("%s not installed (set %s=1 to fail instead): %v", name, RequireEnv, err)
	}
	return path
}

// Main runs a package's tests, removes the binary Build made, and fails the
// run if goroutines are left behind: fakes not closed, processes not waited
// for. Idle keep-alive connections of the default client are not leaks.
func Main(m *testing.M) {
	code := m.Run()
	if buildPath != "" {
		_ = os.RemoveAll(filepath.Dir(buildPath))
	}
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines leaked:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Options say how to start the exporter.
type Options struct {
	Args []string // extra flags; --web.listen-address is added unless given
	Env  []string // extra environment, e.g. VOCODE_API_KEY=...
	// NoWait skips waiting for /-/ready, for processes expected to exit.
	NoWait bool
}

// Exporter is a running exporter process.
type Exporter struct {
	URL  string // e.g. http://127.0.0.1:41234
	Addr string
	Cmd  *exec.Cmd

	logs   *LockedBuffer
	exited chan struct{}
	err    error
}

// FreeAddr returns a loopback address with a port nobody listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs the exporter at bin and waits until it is ready. The process is
// stopped when the test ends.
//
// An address FreeAddr picked can be taken by another process before the
// exporter binds it (the port is free only when FreeAddr looks); when the
// exporter then exits on "address already in use", Start tries again on a
// new address, a few times. An address the caller gave is never changed.
func Start(t testing.TB, bin string, o Options) *Exporter {
	t.Helper()
	given := false
	for _, a := range o.Args {
		if _, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			given = true
		}
	}
	const attempts = 5
	for i := 1; ; i++ {
		e := start(t, bin, o, given)
		if o.NoWait {
			return e
		}
		err := e.waitReady(15 * time.Second)
		if err == nil {
			return e
		}
		if !given && i < attempts && e.exitedEarly() && strings.Contains(e.Logs(), "address already in use") {
			t.Logf("exporter could not bind %s, taken since FreeAddr picked it; trying another address", e.Addr)
			e.Stop()
			continue
		}
		t.Fatalf("exporter not ready: %v\n%s", err, e.Logs())
	}
}

// start runs one exporter process, on a free address unless the arguments
// give one.
func start(t testing.TB, bin string, o Options, given bool) *Exporter {
	t.Helper()
	args := o.Args
	addr := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			addr = v
		}
	}
	if !given {
		addr = FreeAddr(t)
		args = append([]string{"--web.listen-address=" + addr}, args...)
	}
	e := &Exporter{URL: "http://" + addr, Addr: addr, logs: &LockedBuffer{}, exited: make(chan struct{})}
	e.Cmd = exec.Command(bin, args...)
	// A clean environment: nothing of the developer's leaks into the test.
	e.Cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, o.Env...)
	e.Cmd.Stdout = e.logs
	e.Cmd.Stderr = e.logs
	if err := e.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		e.err = e.Cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("exporter log:\n%s", e.Logs())
		}
	})
	return e
}

// exitedEarly reports whether the process has already exited.
func (e *Exporter) exitedEarly() bool {
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

func (e *Exporter) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-e.exited:
			return fmt.Errorf("exited early: %w", e.err)
		default:
		}
		resp, err := http.Get(e.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v", limit)
}

// Logs returns everything the process wrote so far.
func (e *Exporter) Logs() string { return e.logs.String() }

// Get fetches path from the exporter.
func (e *Exporter) Get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// Scrape fetches the metrics page, failing on a non-200 answer.
func (e *Exporter) Scrape(ctx context.Context) (string, error) {
	code, body, err := e.Get(ctx, "/metrics")
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("scrape answered %d: %s", code, body)
	}
	return body, err
}

// Signal sends sig to the process.
func (e *Exporter) Signal(sig os.Signal) error { return e.Cmd.Process.Signal(sig) }

// Wait waits up to limit for the process to exit and returns its exit code,
// or -1 if it did not exit in time.
func (e *Exporter) Wait(limit time.Duration) int {
	select {
	case <-e.exited:
		return e.Cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		return -1
	}
}

// Stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (e *Exporter) Stop() {
	select {
	case <-e.exited:
		return
	default:
	}
	_ = e.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		_ = e.Cmd.Process.Kill()
		<-e.exited
	}
}

// LockedBuffer collects a process' output: the process writes from its own
// goroutines while a test reads.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
