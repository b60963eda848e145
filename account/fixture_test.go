package account

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a Set whose configuration is a YAML text the test can change,
// over fakes of the API, with its log at debug level and its failures
// counted by a recorder of its own.
type fixture struct {
	api      *vocodetest.Server
	accounts *Set
	logs     *strings.Builder
	counts   *counts

	mu   sync.Mutex
	yaml string
}

// newFixture serves conns under name and loads a configuration of that one
// account, whose walks read the connection list only and last at most
// timeout (10 s when 0).
func newFixture(t *testing.T, name string, timeout time.Duration, conns []vocodetest.Connection, opts ...vocodetest.Option) *fixture {
	t.Helper()
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	f := &fixture{api: vocodetest.NewServer(conns, opts...), logs: &strings.Builder{}, counts: &counts{n: map[string]int{}}}
	t.Cleanup(f.api.Close)
	f.setConfig(t, entry(name, f.api))
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	f.accounts, err = NewSet(ctx, Options{
		Load: func() (*config.Config, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return config.Parse([]byte(f.yaml), "https://api.vocode.dev", t.TempDir())
		},
		WalkTimeout: timeout,
		Client:      vocode.Options{Backoff: time.Millisecond},
		NewRecorder: func(account string, _ Enabled) Recorder { return &recorder{account: account, counts: f.counts} },
		Logger:      logger,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// Walks end and clients let go of their connections before the fakes
	// close and goleak looks.
	t.Cleanup(func() {
		cancel()
		for _, a := range f.accounts.All() {
			a.Client().CloseIdleConnections()
		}
	})
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	return f
}

// entry is one account of a configuration, on the fake api.
func entry(name string, api *vocodetest.Server) string {
	return fmt.Sprintf("  - name: %s\n    url: %s\n    api_key: %s\n", name, api.URL, api.APIKey)
}

// setConfig makes the fixture's configuration list these entries.
func (f *fixture) setConfig(t *testing.T, entries ...string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.yaml = "accounts:\n" + strings.Join(entries, "")
}

// account returns the fixture's account of that name.
func (f *fixture) account(t *testing.T, name string) *Account {
	t.Helper()
	a := f.accounts.Get(name)
	if a == nil {
		t.Fatalf("no account %q", name)
	}
	return a
}

// failures is how many scrapes of a counted a failure of collector for
// reason.
func (f *fixture) failures(a *Account, collector string, reason vocode.Reason) int {
	return f.counts.get(a.Name() + "/" + collector + "/" + string(reason))
}

type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[key]++
}

func (c *counts) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// recorder counts failures and requests, and exports nothing.
type recorder struct {
	account string
	counts  *counts
}

func (r *recorder) Describe(chan<- *prometheus.Desc) {}
func (r *recorder) Collect(chan<- prometheus.Metric) {}
func (r *recorder) ObserveRequest(endpoint, code string, _ time.Duration) {
	r.counts.add(r.account + "/request/" + endpoint + "/" + code)
}
func (r *recorder) CountFailure(collector string, reason vocode.Reason) {
	r.counts.add(r.account + "/" + collector + "/" + string(reason))
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
