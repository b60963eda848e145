package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is an Accounts whose configuration is a YAML text the test can
// change, over fakes of the API, with its log at debug level.
type fixture struct {
	api      *vocodetest.Server
	accounts *account.Set
	logs     *strings.Builder

	mu   sync.Mutex
	yaml string
}

// newFixture serves conns under account and loads a configuration of that
// one account, whose walks read the connection list only.
func newFixture(t *testing.T, name string, conns []vocodetest.Connection, opts ...vocodetest.Option) *fixture {
	t.Helper()
	return newCollectingFixture(t, name, account.Enabled{}, conns, opts...)
}

// newCollectingFixture is newFixture with the given collectors enabled.
func newCollectingFixture(t *testing.T, name string, enabled account.Enabled, conns []vocodetest.Connection, opts ...vocodetest.Option) *fixture {
	t.Helper()
	return newFixtureWith(t, name, account.Options{Enabled: enabled}, conns, opts...)
}

// newFixtureWith is newFixture with the collectors and the calls query of
// o; its other fields are the fixture's.
func newFixtureWith(t *testing.T, name string, o account.Options, conns []vocodetest.Connection, opts ...vocodetest.Option) *fixture {
	t.Helper()
	f := &fixture{api: vocodetest.NewServer(conns, opts...), logs: &strings.Builder{}}
	t.Cleanup(f.api.Close)
	f.setConfig(t, entry(name, f.api))
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	f.accounts = newSet(ctx, t, account.Options{
		Load: func() (*config.Config, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return config.Parse([]byte(f.yaml), "https://api.vocode.dev", t.TempDir())
		},
		Client:  vocode.Options{Backoff: time.Millisecond},
		Enabled: o.Enabled,
		Calls:   o.Calls,
		Logger:  logger,
	})
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

// newSet is account.NewSet with the exporter's metrics, and a walk timeout
// of 10 s unless o sets one.
func newSet(ctx context.Context, t *testing.T, o account.Options) *account.Set {
	t.Helper()
	if o.WalkTimeout == 0 {
		o.WalkTimeout = 10 * time.Second
	}
	o.NewRecorder = NewAccountMetrics
	set, err := account.NewSet(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// metricsOf returns the series a kept between scrapes.
func metricsOf(a *account.Account) *accountMetrics { return a.Recorder().(*accountMetrics) }

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
func (f *fixture) account(t *testing.T, name string) *account.Account {
	t.Helper()
	a := f.accounts.Get(name)
	if a == nil {
		t.Fatalf("no account %q", name)
	}
	return a
}

// collect scrapes every current account once, as a /metrics scrape does.
func (f *fixture) collect(ctx context.Context) *Collector {
	return New(ctx, f.accounts.All())
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

func golden(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

var connectionMetrics = []string{
	"vocode_up", "vocode_account_connections", "vocode_account_connections_reported",
	"vocode_account_connections_reported_estimated", "vocode_account_connection_info",
	"vocode_twilio_steering_pool_size", "vocode_twilio_account_supports_any_caller_id",
}

func TestCollect(t *testing.T) {
	no := false
	conns := append(vocodetest.Dataset(3, 1),
		// missing optional fields, an explicit null pool, an unknown type
		vocodetest.Connection{ID: "tw-bare", Type: "account_connection_twilio"},
		vocodetest.Connection{ID: "tw-null", Type: "account_connection_twilio", NullSteeringPool: true, AnyCallerID: &no},
		vocodetest.Connection{ID: "tx-1", Type: "account_connection_telnyx"},
	)
	f := newFixture(t, "prod", conns)
	c := f.collect(context.Background())
	if err := testutil.CollectAndCompare(c, golden(t, "collect.prom"), connectionMetrics...); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	if problems, err := testutil.CollectAndLint(NewExporterMetrics(f.accounts, nil)); err != nil || len(problems) > 0 {
		t.Errorf("lint of the exporter's own metrics: %v %+v", err, problems)
	}
}

// With no connections at all, twilio and openai are still there as 0, so
// an alert on twilio == 0 has a series to fire on.
func TestCollectEmptyAccount(t *testing.T) {
	f := newFixture(t, "prod", nil, vocodetest.WithTotal(vocodetest.TotalNone))
	c := f.collect(context.Background())
	if err := testutil.CollectAndCompare(c, golden(t, "empty.prom"), connectionMetrics...); err != nil {
		t.Error(err)
	}
}

// A failed walk must not look like an account without connections: only
// up (0), duration and pages are sent, and the failure is counted and logged.
func TestCollectFailedWalk(t *testing.T) {
	f := newFixture(t, "prod", vocodetest.Dataset(150, 100))
	f.api.AddFault(vocodetest.Fault{Page: 2, Status: 500, Body: `{"detail":"boom"}`})
	c := f.collect(context.Background())
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP vocode_up 1 if this scrape's walk of the account-connections list succeeded completely, 0 if any page failed (then no connection series are exported for the account).
# TYPE vocode_up gauge
vocode_up{account="prod"} 0
`), connectionMetrics...); err != nil {
		t.Error(err)
	}
	testutil.CollectAndCount(c) // a second failed walk
	m := metricsOf(f.account(t, "prod"))
	if got := testutil.ToFloat64(m.scrapeErrors.WithLabelValues(account.CollectorConnections, "server_error")); got != 2 {
		t.Errorf("server_error count = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.apiRequests.WithLabelValues(vocode.EndpointList, "500")); got != 6 {
		t.Errorf("500 responses counted = %v, want 6 (two walks, three tries each)", got)
	}
	// Logged at error level once, then at debug level while it repeats.
	logs := f.logs.String()
	if n := strings.Count(logs, "level=ERROR"); n != 1 {
		t.Errorf("%d error lines, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, `account=prod collector=connections reason=server_error`) || !strings.Contains(logs, "status=500") || !strings.Contains(logs, "boom") {
		t.Errorf("log lacks account, reason, status or detail:\n%s", logs)
	}
	f.api.ClearFaults()
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP vocode_up 1 if this scrape's walk of the account-connections list succeeded completely, 0 if any page failed (then no connection series are exported for the account).
# TYPE vocode_up gauge
vocode_up{account="prod"} 1
`), "vocode_up"); err != nil {
		t.Error(err)
	}
	if !strings.Contains(f.logs.String(), "succeeds again") {
		t.Errorf("recovery not logged:\n%s", f.logs.String())
	}
}

// Scrapes that arrive while a walk runs share it.
func TestConcurrentScrapesShareAWalk(t *testing.T) {
	f := newFixture(t, "prod", vocodetest.Dataset(150, 100), vocodetest.WithLatency(100*time.Millisecond))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			c := f.collect(context.Background())
			if n := testutil.CollectAndCount(c, "vocode_up"); n != 1 {
				t.Errorf("got %d up series", n)
			}
		})
	}
	wg.Wait()
	if got := f.api.Stats().Requests; got != 3 {
		t.Errorf("10 concurrent scrapes made %d requests, want the 3 of one walk", got)
	}
}

func TestScrapeContext(t *testing.T) {
	tests := []struct {
		header          string
		timeout, offset time.Duration
		want            time.Duration
	}{
		{header: "", timeout: 30 * time.Second, offset: time.Second / 2, want: 30 * time.Second},
		{header: "10", timeout: 30 * time.Second, offset: time.Second / 2, want: 9500 * time.Millisecond},
		{header: "60", timeout: 30 * time.Second, offset: time.Second / 2, want: 30 * time.Second},
		{header: "0.4", timeout: 30 * time.Second, offset: time.Second / 2, want: 400 * time.Millisecond},
		{header: "10", timeout: 30 * time.Second, offset: time.Second, want: 9 * time.Second},
		{header: "0.5", timeout: 30 * time.Second, offset: time.Second, want: 500 * time.Millisecond},
		{header: "junk", timeout: 5 * time.Second, offset: 0, want: 5 * time.Second},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tt.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tt.header)
		}
		ctx, cancel := scrapeContext(r, tt.timeout, tt.offset)
		deadline, ok := ctx.Deadline()
		cancel()
		if got := time.Until(deadline); !ok || got > tt.want || got < tt.want-time.Second {
			t.Errorf("header %q timeout %v offset %v: deadline in %v, want %v", tt.header, tt.timeout, tt.offset, got, tt.want)
		}
	}
}

// The scrape's deadline reaches the API requests: a hanging API ends the
// scrape in time, as a timeout.
func TestHandlerHonoursScrapeTimeout(t *testing.T) {
	f := newFixture(t, "prod", vocodetest.Dataset(1, 1))
	f.api.AddFault(vocodetest.Fault{Hang: true})
	h := NewHandler(HandlerOpts{
		Accounts: f.accounts, Gatherer: prometheus.NewRegistry(),
		Timeout: 30 * time.Second, Offset: 500 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "1")
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, r)
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Errorf("scrape took %v, want about 0.5s", took)
	}
	body := w.Body.String()
	for _, want := range []string{`vocode_up{account="prod"} 0`, `vocode_scrape_errors_total{account="prod",collector="connections",reason="timeout"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}
