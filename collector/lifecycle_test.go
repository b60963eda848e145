package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// gather collects c the way a /metrics scrape does.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// seriesOf lists the names of the series whose account label is account.
func seriesOf(mfs []*dto.MetricFamily, account string) []string {
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "account" && lp.GetValue() == account {
					out = append(out, mf.GetName())
				}
			}
		}
	}
	return out
}

// upOf returns vocode_up of account, or -1 when absent.
func upOf(mfs []*dto.MetricFamily, account string) float64 {
	for _, mf := range mfs {
		if mf.GetName() != "vocode_up" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == account {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func waitRequests(t *testing.T, api *vocodetest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for api.Stats().Requests < n {
		if time.Now().After(deadline) {
			t.Fatalf("the API got %d requests, waited for %d", api.Stats().Requests, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A reload removes an account while its walk is in flight: no later scrape
// may serve any series of it, however the walk ends.
func TestReloadRemovesAccountMidWalk(t *testing.T) {
	f := newFixture(t, "gone", vocodetest.Dataset(2, 1), vocodetest.WithLatency(300*time.Millisecond))
	kept := vocodetest.NewServer(vocodetest.Dataset(1, 1))
	t.Cleanup(kept.Close)
	f.setConfig(t, entry("gone", f.api), entry("kept", kept))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	wg.Go(func() { gather(t, f.collect(context.Background())) })
	waitRequests(t, f.api, 1)
	f.setConfig(t, entry("kept", kept))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	for range 2 {
		mfs := gather(t, f.collect(context.Background()))
		if got := seriesOf(mfs, "gone"); len(got) > 0 {
			t.Fatalf("a scrape after the reload serves the removed account's series %v", got)
		}
		if up := upOf(mfs, "kept"); up != 1 {
			t.Fatalf("vocode_up of the kept account = %v", up)
		}
	}
	if f.accounts.Get("gone") != nil {
		t.Error("Get still finds the removed account")
	}
	if !strings.Contains(f.logs.String(), `msg="walk cancelled" account=gone why="account removed from the configuration"`) {
		t.Errorf("the cancelled walk was not logged as such:\n%s", f.logs.String())
	}
	if strings.Contains(f.logs.String(), "level=ERROR") {
		t.Errorf("removing an account logged an error:\n%s", f.logs.String())
	}
}

// A configuration that does not load shows in the reload gauge, and the
// previous one keeps serving.
func TestReloadGaugesAfterBrokenConfig(t *testing.T) {
	f := newFixture(t, "prod", vocodetest.Dataset(1, 1))
	before := f.accounts.All()
	f.setConfig(t, "  - name: prod\n    bogus: 1\n")
	err := f.accounts.Reload()
	if err == nil || !strings.Contains(err.Error(), `unknown key "bogus"`) {
		t.Fatalf("Reload = %v, want the unknown key named", err)
	}
	if after := f.accounts.All(); len(after) != 1 || after[0] != before[0] {
		t.Error("a broken reload changed the accounts")
	}
	if got := testutil.ToFloat64(NewExporterMetrics(f.accounts, nil).reload.succeeded); got != 0 {
		t.Errorf("config_last_reload_successful = %v after a broken reload", got)
	}
	if o := before[0].Scrape(context.Background()); o.Connections.Err != nil {
		t.Errorf("the previous configuration does not serve: %v", o.Connections.Err)
	}
}

func TestServeReload(t *testing.T) {
	f := newFixture(t, "prod", vocodetest.Dataset(1, 1))
	tests := []struct {
		method string
		config string
		code   int
		body   string
	}{
		{http.MethodGet, entry("prod", f.api), http.StatusMethodNotAllowed, "reload takes POST or PUT"},
		{http.MethodPost, entry("prod", f.api), http.StatusOK, "configuration reloaded"},
		{http.MethodPut, entry("prod", f.api), http.StatusOK, "configuration reloaded"},
		{http.MethodPost, "  - name: bad name\n", http.StatusInternalServerError, "reload failed: accounts[0]: name \"bad name\""},
	}
	for _, tt := range tests {
		f.setConfig(t, tt.config)
		w := httptest.NewRecorder()
		NewReloadHandler(f.accounts, slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest(tt.method, "/-/reload", nil))
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%s with %q = %d %q, want %d with %q", tt.method, tt.config, w.Code, w.Body.String(), tt.code, tt.body)
		}
	}
}

// Many accounts share one request budget: however many walk at once, the
// API never sees more requests in flight than the budget, every account
// gets its turn, and the budget's series say how it went.
func TestBudgetAcrossAccounts(t *testing.T) {
	api := vocodetest.NewServer(vocodetest.Dataset(150, 100), vocodetest.WithLatency(20*time.Millisecond))
	t.Cleanup(api.Close)
	var entries []string
	for i := range 12 {
		entries = append(entries, entry(fmt.Sprintf("acct%02d", i), api))
	}
	budget := vocode.NewBudget(3)
	f := &fixture{api: api, logs: &strings.Builder{}}
	f.setConfig(t, entries...)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.accounts = newSet(ctx, t, account.Options{
		Load: func() (*config.Config, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return config.Parse([]byte(f.yaml), "", t.TempDir())
		},
		Client: vocode.Options{Concurrency: 2, Budget: budget},
	})
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.accounts.All()[0].Client().CloseIdleConnections() })

	mfs := gather(t, f.collect(context.Background()))
	for _, a := range f.accounts.All() {
		if up := upOf(mfs, a.Name()); up != 1 {
			t.Errorf("vocode_up of %s = %v", a.Name(), up)
		}
	}
	s := api.Stats()
	if s.All.MaxInFlight > 3 {
		t.Errorf("the API saw %d requests at once, over the budget of 3", s.All.MaxInFlight)
	}
	if s.Requests != 12*3 {
		t.Errorf("%d requests, want 3 pages for each of 12 accounts", s.Requests)
	}
	if budget.Waited() <= 0 {
		t.Error("no request waited for the budget: the test did not load it")
	}
	err := testutil.CollectAndCompare(NewExporterMetrics(f.accounts, budget), strings.NewReader(`
# HELP vocode_exporter_api_max_requests_in_flight The request budget: most API requests in flight at once across every account (--vocode.max-requests-in-flight).
# TYPE vocode_exporter_api_max_requests_in_flight gauge
vocode_exporter_api_max_requests_in_flight 3
# HELP vocode_exporter_api_requests_in_flight API requests holding a slot of the request budget now.
# TYPE vocode_exporter_api_requests_in_flight gauge
vocode_exporter_api_requests_in_flight 0
# HELP vocode_exporter_api_requests_waiting API requests waiting for a slot of the request budget now; above 0 for long, the budget slows walks down.
# TYPE vocode_exporter_api_requests_waiting gauge
vocode_exporter_api_requests_waiting 0
`), "vocode_exporter_api_max_requests_in_flight", "vocode_exporter_api_requests_in_flight", "vocode_exporter_api_requests_waiting")
	if err != nil {
		t.Error(err)
	}
}
