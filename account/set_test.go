package account

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// scrapeAsync scrapes a once with a deadline in timeout, in the background.
func scrapeAsync(a *Account, timeout time.Duration) func() Outcome {
	ch := make(chan Outcome, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		ch <- a.Scrape(ctx)
	}()
	return func() Outcome { return <-ch }
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

// A scrape joining a walk in flight gets the walk's outcome, within its
// own, later deadline; the scrape that started the walk gives up at its
// own, shorter one and counts one timeout, and the walk goes on by its own
// deadline (joining moves no deadline); the API sees one walk.
func TestJoinerGetsTheWalkItShares(t *testing.T) {
	f := newFixture(t, "prod", 0, vocodetest.Dataset(3, 2), vocodetest.WithLatency(400*time.Millisecond))
	a := f.account(t, "prod")
	short := scrapeAsync(a, 150*time.Millisecond)
	waitRequests(t, f.api, 1)
	long := scrapeAsync(a, 5*time.Second)

	if o := short(); vocode.ReasonOf(o.Connections.Err) != vocode.ReasonTimeout {
		t.Errorf("the short scrape got %v, want a timeout", o.Connections.Err)
	}
	o := long()
	if o.Connections.Err != nil || len(o.Connections.Value.Connections) != 5 {
		t.Fatalf("the long scrape got %v, %v; want the walk's 5 connections", o.Connections.Err, o.Connections.Value)
	}
	if n := f.api.Stats().Requests; n != 1 {
		t.Errorf("the API got %d requests, want the one of a shared walk", n)
	}
	if got := f.failures(a, CollectorConnections, vocode.ReasonTimeout); got != 1 {
		t.Errorf("timeouts counted: %v, want 1", got)
	}
}

// A scrape alone whose walk times out with it counts one timeout, not one
// for the scrape and one for the walk.
func TestTimedOutScrapeCountsOnce(t *testing.T) {
	f := newFixture(t, "prod", 0, vocodetest.Dataset(1, 1), vocodetest.WithLatency(time.Second))
	a := f.account(t, "prod")
	if o := scrapeAsync(a, 100*time.Millisecond)(); vocode.ReasonOf(o.Connections.Err) != vocode.ReasonTimeout {
		t.Fatalf("got %v, want a timeout", o.Connections.Err)
	}
	for _, r := range vocode.Reasons() {
		want := 0
		if r == vocode.ReasonTimeout {
			want = 1
		}
		if got := f.failures(a, CollectorConnections, r); got != want {
			t.Errorf("%s counted %v, want %v", r, got, want)
		}
	}
}

// rekeyed serves api behind a URL of its own and takes a second key too,
// as an API does while a key is rotated.
func rekeyed(t *testing.T, api *vocodetest.Server, key string) *vocodetest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+key {
			r.Header.Set("Authorization", "Bearer "+api.APIKey)
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return &vocodetest.Server{API: api.API, URL: ts.URL, APIKey: key}
}

// Reloads keep one walk per account unless the API URL or key changed; then
// a scrape after the reload never gets the walk begun before it.
func TestReloadDuringWalk(t *testing.T) {
	f := newFixture(t, "prod", 0, vocodetest.Dataset(3, 2), vocodetest.WithLatency(300*time.Millisecond))
	second := vocodetest.NewServer(vocodetest.Dataset(5, 2), vocodetest.WithLatency(300*time.Millisecond))
	t.Cleanup(second.Close)
	tests := []struct {
		name     string
		next     *vocodetest.Server
		walks    int // requests the original API gets
		twilio   int // what the scrape after the reload sees
		sameWalk bool
	}{
		{"unchanged", f.api, 1, 3, true},
		{"new key", rekeyed(t, f.api, "rotated-key"), 2, 3, false},
		{"new URL", second, 1, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.setConfig(t, entry("prod", f.api))
			if err := f.accounts.Reload(); err != nil {
				t.Fatal(err)
			}
			f.api.ResetStats()
			a := f.account(t, "prod")
			before := scrapeAsync(a, 5*time.Second)
			waitRequests(t, f.api, 1)

			f.setConfig(t, entry("prod", tt.next))
			if err := f.accounts.Reload(); err != nil {
				t.Fatal(err)
			}
			if f.account(t, "prod") != a {
				t.Fatal("the reload replaced the Account of a name it kept")
			}
			after := a.Scrape(context.Background())
			if o := before(); o.Connections.Err != nil || len(o.Connections.Value.Connections) != 5 {
				t.Errorf("the scrape begun before the reload got %v, %v", o.Connections.Err, o.Connections.Value)
			}
			if after.Connections.Err != nil {
				t.Fatalf("the scrape after the reload failed: %v", after.Connections.Err)
			}
			if got := after.Connections.Value.Connections; countType(got, vocode.TypeTwilio) != tt.twilio {
				t.Errorf("the scrape after the reload saw %d twilio connections, want %d", countType(got, vocode.TypeTwilio), tt.twilio)
			}
			if n := f.api.Stats().Requests; n != tt.walks {
				t.Errorf("the first API got %d requests, want %d", n, tt.walks)
			}
		})
	}
}

func countType(conns []vocode.Connection, typ string) int {
	n := 0
	for _, c := range conns {
		if c.Type == typ {
			n++
		}
	}
	return n
}

// A reload keeps what the account learned: an ongoing failure is not
// announced at error level again, and a page size the API refused stays
// refused while the URL is the same, even with a new key.
func TestReloadKeepsWhatTheAccountLearned(t *testing.T) {
	f := newFixture(t, "prod", 0, vocodetest.Dataset(30, 30), vocodetest.WithMaxPageSize(50))
	both := rekeyed(t, f.api, "rotated-key") // one URL taking both keys
	f.setConfig(t, entry("prod", &vocodetest.Server{URL: both.URL, APIKey: f.api.APIKey}))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	a := f.account(t, "prod")
	if o := a.Scrape(context.Background()); o.Connections.Err != nil {
		t.Fatal(o.Connections.Err)
	}
	if got := a.Client().PageSize(); got != 50 {
		t.Fatalf("page size after a 422 = %d, want 50", got)
	}
	f.api.AddFault(vocodetest.Fault{Status: http.StatusUnauthorized})
	a.Scrape(context.Background())

	rotate(t, f, a, both)
	a.Scrape(context.Background())
	logs := f.logs.String()
	if n := strings.Count(logs, "level=ERROR"); n != 1 {
		t.Errorf("%d error lines across the reload, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "failed again") {
		t.Errorf("the repeated failure was not logged at debug level:\n%s", logs)
	}
	if got := a.Client().PageSize(); got != 50 {
		t.Errorf("page size after the reload = %d, want the learned 50", got)
	}
	if got := f.failures(a, CollectorConnections, vocode.ReasonAuth); got != 2 {
		t.Errorf("auth failures = %v, want 2: counters survive a reload", got)
	}
}

// A configuration that does not load changes nothing.
func TestReloadBrokenConfig(t *testing.T) {
	f := newFixture(t, "prod", 0, vocodetest.Dataset(1, 1))
	before := f.accounts.All()
	f.setConfig(t, "  - name: prod\n    bogus: 1\n")
	err := f.accounts.Reload()
	if err == nil || !strings.Contains(err.Error(), `unknown key "bogus"`) {
		t.Fatalf("Reload = %v, want the unknown key named", err)
	}
	if after := f.accounts.All(); len(after) != 1 || after[0] != before[0] {
		t.Error("a broken reload changed the accounts")
	}
	if last := f.accounts.LastReload(); last.OK || !strings.Contains(last.Err, "bogus") {
		t.Errorf("LastReload = %+v after a broken reload", last)
	}
	if o := before[0].Scrape(context.Background()); o.Connections.Err != nil {
		t.Errorf("the previous configuration does not serve: %v", o.Connections.Err)
	}
}

// A set without a walk timeout would start walks without an end.
func TestNewSetRefusesWalksWithoutDeadline(t *testing.T) {
	for _, timeout := range []time.Duration{0, -time.Second} {
		_, err := NewSet(context.Background(), Options{Load: func() (*config.Config, error) { return nil, nil }, WalkTimeout: timeout})
		if err == nil || !strings.Contains(err.Error(), "the walk timeout must be positive") {
			t.Errorf("NewSet with a walk timeout of %v = %v, want it refused", timeout, err)
		}
	}
}

// A key rotation keeps what the account learned of the calls list's
// order: an API that rejects the sort is not asked for it again by the
// new client before the retry is due.
func TestRotationKeepsCallsOrder(t *testing.T) {
	f := newFixture(t, "prod", 0, vocodetest.Dataset(1, 1),
		vocodetest.WithCalls(vocodetest.Calls(30, time.Now(), time.Hour, 0, nil)), vocodetest.WithCallSort(vocodetest.SortRejected))
	both := rekeyed(t, f.api, "rotated-key")
	f.setConfig(t, entry("prod", &vocodetest.Server{URL: both.URL, APIKey: f.api.APIKey}))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	a := f.account(t, "prod")
	if _, err := a.Client().Calls(context.Background(), vocode.CallsQuery{}); err != nil {
		t.Fatal(err)
	}
	learned := a.Client().CallsLearned()
	if learned.UnsortedSince.IsZero() {
		t.Fatal("the client did not learn that the API rejects the sort")
	}

	rotate(t, f, a, both)
	if got := a.Client().CallsLearned(); got != learned {
		t.Errorf("after the rotation the client knows %+v, want %+v", got, learned)
	}
	f.api.ResetStats()
	st, err := a.Client().Calls(context.Background(), vocode.CallsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// One page of 100 without the sort; a client that forgot would ask
	// for it first and get a 422.
	if n := f.api.Stats().Endpoints[vocodetest.EndpointCalls].Requests; n != 1 || st.Sorted {
		t.Errorf("%d requests, sorted %v; want 1 without the sort", n, st.Sorted)
	}
}

// rotate reloads f with a's account on api, the same URL with a new key,
// and checks that a got a new client.
func rotate(t *testing.T, f *fixture, a *Account, api *vocodetest.Server) {
	t.Helper()
	oldClient := a.Client()
	f.setConfig(t, entry(a.Name(), api))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	if a.Client() == oldClient {
		t.Fatal("a new key did not make a new client")
	}
}

// A key rotation keeps the agents list's learned page size, as it keeps the
// other lists': the new client asks for it at once, with no 422 first.
func TestRotationKeepsAgentsPageSize(t *testing.T) {
	f := newFixture(t, "prod", 0, vocodetest.Dataset(1, 1),
		vocodetest.WithAgents(vocodetest.Agents(20)), vocodetest.WithMaxPageSizeFor(vocodetest.EndpointAgents, 25))
	both := rekeyed(t, f.api, "rotated-key")
	f.setConfig(t, entry("prod", &vocodetest.Server{URL: both.URL, APIKey: f.api.APIKey}))
	if err := f.accounts.Reload(); err != nil {
		t.Fatal(err)
	}
	a := f.account(t, "prod")
	if _, err := a.Client().WalkAgents(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := a.Client().AgentsPageSize(); got != 25 {
		t.Fatalf("agents page size after a 422 = %d, want 25", got)
	}

	rotate(t, f, a, both)
	if got, other := a.Client().AgentsPageSize(), a.Client().PageSize(); got != 25 || other != vocode.DefaultPageSize {
		t.Errorf("after the rotation: agents page size %d, connections page size %d; want 25, %d", got, other, vocode.DefaultPageSize)
	}
	f.api.ResetStats()
	if _, err := a.Client().WalkAgents(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.api.Stats().Endpoints[vocodetest.EndpointAgents].Requests; n != 1 {
		t.Errorf("%d agents requests after the rotation, want 1 (no 422 on a forgotten size)", n)
	}
}
