package vocode_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// newClient returns a client for the fake with fast retries.
func newClient(t *testing.T, s *vocodetest.Server, opts vocode.Options) *vocode.Client {
	t.Helper()
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	if opts.Transport == nil {
		opts.Transport = s.Client().Transport
	}
	c, err := vocode.New(s.URL, s.APIKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func newServer(t *testing.T, conns []vocodetest.Connection, opts ...vocodetest.Option) *vocodetest.Server {
	t.Helper()
	s := vocodetest.NewServer(conns, opts...)
	t.Cleanup(s.Close)
	return s
}

func ids(conns []vocode.Connection) map[string]int {
	m := map[string]int{}
	for _, c := range conns {
		m[c.ID]++
	}
	return m
}

func TestWalk(t *testing.T) {
	tests := []struct {
		name      string
		conns     int
		opts      []vocodetest.Option
		pageSize  int
		wantPages int
		wantTotal bool
	}{
		{name: "exact total, concurrent pages", conns: 250, pageSize: 100, wantPages: 3, wantTotal: true},
		{name: "estimated total, page by page", conns: 250, pageSize: 100, wantPages: 3, wantTotal: true,
			opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalEstimated)}},
		{name: "no total (pre-2024 API)", conns: 250, pageSize: 100, wantPages: 3,
			opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalNone)}},
		{name: "empty account", conns: 0, pageSize: 100, wantPages: 1, wantTotal: true},
		{name: "exactly full pages", conns: 200, pageSize: 100, wantPages: 2, wantTotal: true},
		{name: "many small pages", conns: 1000, pageSize: 10, wantPages: 100, wantTotal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := vocodetest.Dataset(tt.conns/2, tt.conns-tt.conns/2)
			s := newServer(t, data, tt.opts...)
			res, err := newClient(t, s, vocode.Options{PageSize: tt.pageSize}).Walk(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Connections) != tt.conns || len(ids(res.Connections)) != tt.conns {
				t.Errorf("got %d connections (%d distinct), want %d", len(res.Connections), len(ids(res.Connections)), tt.conns)
			}
			if res.Pages != tt.wantPages || s.Stats().Requests != tt.wantPages {
				t.Errorf("pages = %d, requests = %d, want %d", res.Pages, s.Stats().Requests, tt.wantPages)
			}
			if res.HasTotal != tt.wantTotal || (tt.wantTotal && res.Total != tt.conns) {
				t.Errorf("total = %d (has %v), want %d (has %v)", res.Total, res.HasTotal, tt.conns, tt.wantTotal)
			}
			for i, c := range res.Connections {
				if c.ID != data[i].ID {
					t.Fatalf("connection %d is %s, want %s: order not kept", i, c.ID, data[i].ID)
				}
			}
		})
	}
}

func TestWalkConcurrencyBound(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(500, 500), vocodetest.WithLatency(20*time.Millisecond))
	c := newClient(t, s, vocode.Options{PageSize: 10, Concurrency: 3})
	if _, err := c.Walk(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().MaxInFlight; got > 3 || got < 2 {
		t.Errorf("max requests in flight = %d, want 2..3", got)
	}
}

// The list grows after page 1 told its total: has_more of the last page is
// still followed.
func TestWalkFollowsGrowth(t *testing.T) {
	data := vocodetest.Dataset(150, 100)
	s := newServer(t, data)
	var grown atomic.Bool
	s.OnPage(func(page int) {
		if page == 3 && grown.CompareAndSwap(false, true) {
			more := append([]vocodetest.Connection(nil), data...)
			for i := range 120 {
				more = append(more, vocodetest.OpenAIConnection(1000+i))
			}
			s.SetConnections(more)
		}
	})
	res, err := newClient(t, s, vocode.Options{PageSize: 100}).Walk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Connections) != 370 || res.Pages != 4 {
		t.Errorf("got %d connections in %d pages, want 370 in 4", len(res.Connections), res.Pages)
	}
}

// An item inserted at the front while the walk runs shifts every later page
// by one: the item at each page boundary comes twice and must count once.
func TestWalkCountsShiftedItemsOnce(t *testing.T) {
	data := vocodetest.Dataset(150, 150)
	s := newServer(t, data, vocodetest.WithTotal(vocodetest.TotalNone))
	var shifted atomic.Bool
	s.OnPage(func(page int) {
		if page == 2 && shifted.CompareAndSwap(false, true) {
			s.SetConnections(append([]vocodetest.Connection{vocodetest.OpenAIConnection(9999)}, data...))
		}
	})
	res, err := newClient(t, s, vocode.Options{PageSize: 100}).Walk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range ids(res.Connections) {
		if n != 1 {
			t.Errorf("connection %s counted %d times", id, n)
		}
	}
	if len(res.Connections) != 300 {
		t.Errorf("got %d connections, want the 300 walked past", len(res.Connections))
	}
}

func TestWalkLearnsPageSize(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(40, 40), vocodetest.WithMaxPageSize(30))
	c := newClient(t, s, vocode.Options{PageSize: 100})
	res, err := c.Walk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.PageSize() != 25 || res.PageSize != 25 || len(res.Connections) != 80 {
		t.Fatalf("page size %d (result %d), %d connections; want 25, 80", c.PageSize(), res.PageSize, len(res.Connections))
	}
	s.ResetStats()
	if _, err := c.Walk(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().PageSizes; len(got) != 1 || got[25] != 4 {
		t.Errorf("second walk asked for sizes %v, want only 25 (4 pages)", got)
	}
}

func TestWalkPageSizeFloor(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(1, 0), vocodetest.WithMaxPageSize(5))
	_, err := newClient(t, s, vocode.Options{PageSize: 40}).Walk(context.Background())
	if vocode.ReasonOf(err) != vocode.ReasonClientError {
		t.Fatalf("err = %v, want client_error", err)
	}
	if got := s.Stats().PageSizes; got[40] != 1 || got[20] != 1 || got[10] != 1 || len(got) != 3 {
		t.Errorf("asked sizes %v, want 40, 20, 10 once each", got)
	}
}

func TestWalkErrors(t *testing.T) {
	retryAfter0 := http.Header{"Retry-After": {"0"}}
	tests := []struct {
		name         string
		fault        vocodetest.Fault
		key          string // overrides the right key
		noTotal      bool
		timeout      time.Duration
		maxBody      int64
		want         vocode.Reason
		wantStatus   int
		wantRequests int
		wantDetail   string
	}{
		{name: "wrong key", key: "wrong", want: vocode.ReasonAuth, wantStatus: 401, wantRequests: 1, wantDetail: "Invalid API key"},
		{name: "403", fault: vocodetest.Fault{Status: 403}, want: vocode.ReasonAuth, wantStatus: 403, wantRequests: 1},
		{name: "404", fault: vocodetest.Fault{Status: 404}, want: vocode.ReasonClientError, wantStatus: 404, wantRequests: 1},
		{name: "422 not about size", fault: vocodetest.Fault{Status: 422, Body: `{"detail":[{"loc":["query","page"],"msg":"bad page","type":"x"}]}`},
			want: vocode.ReasonClientError, wantStatus: 422, wantRequests: 1, wantDetail: "query.page: bad page"},
		{name: "429 retried twice", fault: vocodetest.Fault{Status: 429, Header: retryAfter0}, want: vocode.ReasonRateLimited, wantStatus: 429, wantRequests: 3},
		{name: "500 retried twice", fault: vocodetest.Fault{Status: 500}, want: vocode.ReasonServerError, wantStatus: 500, wantRequests: 3},
		{name: "503 html from a proxy", fault: vocodetest.Fault{Status: 503, Body: "<html>down</html>", Header: http.Header{"Content-Type": {"text/html"}}},
			want: vocode.ReasonServerError, wantStatus: 503, wantRequests: 3, wantDetail: "non-JSON body of 17 bytes"},
		{name: "429 whose Retry-After misses the deadline", fault: vocodetest.Fault{Status: 429, Header: http.Header{"Retry-After": {"120"}}},
			timeout: 5 * time.Second, want: vocode.ReasonRateLimited, wantStatus: 429, wantRequests: 1},
		{name: "hanging API", fault: vocodetest.Fault{Hang: true}, timeout: 200 * time.Millisecond, want: vocode.ReasonTimeout, wantRequests: 1},
		{name: "slow page 2", fault: vocodetest.Fault{Page: 2, Delay: time.Second}, timeout: 200 * time.Millisecond, want: vocode.ReasonTimeout},
		{name: "malformed JSON", fault: vocodetest.Fault{Handler: vocodetest.Raw(200, "application/json", `{"items":[`)}, want: vocode.ReasonDecode, wantStatus: 200, wantRequests: 1},
		{name: "empty 200", fault: vocodetest.Fault{Handler: vocodetest.Raw(200, "", "")}, want: vocode.ReasonDecode, wantStatus: 200, wantRequests: 1, wantDetail: "empty body"},
		{name: "body over the limit", maxBody: 1000, want: vocode.ReasonTooLarge, wantStatus: 200, wantRequests: 1},
		{name: "huge streamed body", fault: vocodetest.Fault{Handler: vocodetest.Huge(33 << 20)}, want: vocode.ReasonTooLarge, wantStatus: 200, wantRequests: 1},
		{name: "reset mid-body", fault: vocodetest.Fault{Handler: vocodetest.ResetMidBody()}, want: vocode.ReasonTransport, wantStatus: 200, wantRequests: 3},
		{name: "wrong page served", fault: vocodetest.Fault{Page: 1, Handler: vocodetest.Raw(200, "application/json", `{"items":[],"page":7,"has_more":false}`)},
			want: vocode.ReasonPagination, wantStatus: 200, wantRequests: 1},
		{name: "has_more without new ids", noTotal: true, fault: vocodetest.Fault{Page: 2, Handler: vocodetest.Raw(200, "application/json", `{"items":[],"page":2,"has_more":true}`)},
			want: vocode.ReasonPagination, wantRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []vocodetest.Option{}
			if tt.noTotal {
				opts = append(opts, vocodetest.WithTotal(vocodetest.TotalNone))
			}
			s := newServer(t, vocodetest.Dataset(150, 100), opts...)
			if f := tt.fault; f.Status != 0 || f.Handler != nil || f.Hang || f.Delay != 0 {
				s.AddFault(tt.fault)
			}
			key := s.APIKey
			if tt.key != "" {
				key = tt.key
			}
			c, err := vocode.New(s.URL, key, vocode.Options{PageSize: 100, Backoff: time.Millisecond, MaxBodyBytes: tt.maxBody})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			_, err = c.Walk(ctx)
			if got := vocode.ReasonOf(err); got != tt.want {
				t.Fatalf("reason = %q (%v), want %q", got, err, tt.want)
			}
			var ve *vocode.Error
			if !errors.As(err, &ve) || ve.Endpoint != vocode.EndpointList {
				t.Errorf("err = %#v, want a vocode.Error of endpoint %s", err, vocode.EndpointList)
			}
			if tt.wantStatus != 0 && (!errors.As(err, &ve) || ve.Status != tt.wantStatus) {
				t.Errorf("err = %v, want status %d", err, tt.wantStatus)
			}
			if tt.wantRequests != 0 && s.Stats().Requests != tt.wantRequests {
				t.Errorf("requests = %d, want %d", s.Stats().Requests, tt.wantRequests)
			}
			if tt.wantDetail != "" && !strings.Contains(err.Error(), tt.wantDetail) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantDetail)
			}
			if strings.Contains(err.Error(), s.APIKey) {
				t.Errorf("error %q quotes the API key", err)
			}
			if tt.timeout > 0 && time.Since(start) > tt.timeout+time.Second {
				t.Errorf("walk took %v, past its %v deadline", time.Since(start), tt.timeout)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(1, 1))
	s.AddFault(vocodetest.Fault{Times: 1, Status: 429, Header: http.Header{"Retry-After": {"1"}}})
	start := time.Now()
	if _, err := newClient(t, s, vocode.Options{}).Walk(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("walk took %v, want at least the 1s Retry-After", waited)
	}
	if got := s.Stats().Requests; got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
}

func TestWalkFailedPageStopsTheRest(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(500, 500), vocodetest.WithLatency(10*time.Millisecond))
	s.AddFault(vocodetest.Fault{Page: 3, Status: 404})
	_, err := newClient(t, s, vocode.Options{PageSize: 10, Concurrency: 2}).Walk(context.Background())
	if vocode.ReasonOf(err) != vocode.ReasonClientError {
		t.Fatalf("err = %v, want client_error", err)
	}
	if got := s.Stats().Requests; got > 10 {
		t.Errorf("%d requests after page 3 failed; the walk should stop early", got)
	}
}

// A redirect to another host is not followed, so the key never reaches it;
// one on the API's own host is.
func TestRedirects(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()

	s := newServer(t, vocodetest.Dataset(2, 2))
	s.AddFault(vocodetest.Fault{Handler: vocodetest.RedirectTo(other.URL)})
	_, err := newClient(t, s, vocode.Options{}).Walk(context.Background())
	if vocode.ReasonOf(err) != vocode.ReasonClientError || !strings.Contains(err.Error(), "redirect not followed") {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
	if leaked.Load() != 0 {
		t.Fatal("the other host received an Authorization header")
	}

	same := newServer(t, vocodetest.Dataset(2, 2))
	same.AddFault(vocodetest.Fault{Times: 1, Handler: func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}})
	if _, err := newClient(t, same, vocode.Options{}).Walk(context.Background()); err != nil {
		t.Fatalf("same-host redirect: %v", err)
	}
}

func TestRequestObserver(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(150, 100))
	s.AddFault(vocodetest.Fault{Page: 2, Times: 1, Status: 503})
	var seen []string
	c := newClient(t, s, vocode.Options{PageSize: 100, Concurrency: 1, Observer: func(endpoint, code string, d time.Duration) {
		seen = append(seen, endpoint+" "+code)
		if d <= 0 {
			t.Errorf("non-positive duration %v", d)
		}
	}})
	if _, err := c.Walk(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "account_connections_list 200,account_connections_list 503,account_connections_list 200,account_connections_list 200"
	if got := strings.Join(seen, ","); got != want {
		t.Errorf("observed %s\nwant     %s", got, want)
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "https://api.vocode.dev", want: "https://api.vocode.dev"},
		{in: "https://api.vocode.dev/", want: "https://api.vocode.dev"},
		{in: "https://proxy.example/vocode/", want: "https://proxy.example/vocode"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "http://localhost:8080", want: "http://localhost:8080"},
		{in: "http://[::1]:8080", want: "http://[::1]:8080"},
		{in: "http://api.vocode.dev", err: `refusing plain http:// API URL for non-loopback host "api.vocode.dev"`},
		{in: "http://10.0.0.1", err: "refusing plain http://"},
		{in: "ftp://api.vocode.dev", err: "scheme must be https"},
		{in: "api.vocode.dev", err: "no host"},
		{in: "https://user:pw@api.vocode.dev", err: "must not carry user information"},
	}
	for _, tt := range tests {
		u, err := vocode.ParseBaseURL(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseBaseURL(%q) error = %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || u.String() != tt.want):
			t.Errorf("ParseBaseURL(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

func TestClientPrintsNoKey(t *testing.T) {
	c, err := vocode.New("https://api.vocode.dev", "canary-key-0xdeadbeef", vocode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.String()} {
		if strings.Contains(s, "canary-key") {
			t.Errorf("client prints its key: %s", s)
		}
	}
	if s := fmt.Sprintf("%v", c); s != "vocode.Client(https://api.vocode.dev)" {
		t.Errorf("String() = %q", s)
	}
}

// A total that overstates the list must not cost a request per page it
// claims: the walk stops launching pages once one says has_more is false.
func TestWalkOverstatedTotal(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(1, 1))
	s.AddFault(vocodetest.Fault{Page: 1, Handler: vocodetest.Raw(http.StatusOK, "application/json",
		`{"items":[{"id":"a","type":"account_connection_twilio"}],"page":1,"has_more":true,"total":1000000000,"total_is_estimated":false}`)})
	res, err := newClient(t, s, vocode.Options{PageSize: 10, Concurrency: 4}).Walk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Requests; got > 1+4+4 {
		t.Errorf("%d requests for a list of 2 connections, want at most 9", got)
	}
	if len(res.Connections) != 1 || res.Total != 1000000000 {
		t.Errorf("got %d connections, total %d", len(res.Connections), res.Total)
	}
}

// A certificate that does not verify fails at once: retrying cannot help.
func TestUnverifiedCertificateIsNotRetried(t *testing.T) {
	s := vocodetest.NewTLSServer(vocodetest.Dataset(1, 1))
	defer s.Close()
	var tries atomic.Int32
	c, err := vocode.New(s.URL, s.APIKey, vocode.Options{Backoff: time.Millisecond,
		Observer: func(_, code string, _ time.Duration) { tries.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = c.Walk(context.Background())
	if vocode.ReasonOf(err) != vocode.ReasonTransport || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a transport error about the certificate", err)
	}
	if tries.Load() != 1 {
		t.Errorf("%d tries, want 1", tries.Load())
	}
}

// total is a hint: whatever page 1 says it is, a walk follows has_more and
// finds the whole list, without failing and without asking for pages that
// the hint alone suggests.
func TestWalkTotalHints(t *testing.T) {
	tests := []struct {
		name  string
		total string // served verbatim as `total`
		conns int
		pages int
	}{
		{name: "negative, one page", total: `-1`, conns: 5, pages: 1},
		{name: "negative, several pages", total: `-250`, conns: 250, pages: 3},
		{name: "fractional", total: `250.5`, conns: 250, pages: 3},
		{name: "a string", total: `"250"`, conns: 250, pages: 3},
		{name: "null", total: `null`, conns: 250, pages: 3},
		{name: "an object", total: `{"value":250}`, conns: 250, pages: 3},
		{name: "a boolean", total: `true`, conns: 250, pages: 3},
		{name: "past int64", total: `1e30`, conns: 250, pages: 3},
		{name: "absurdly large", total: `1000000001`, conns: 250, pages: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, vocodetest.Dataset(tt.conns/2, tt.conns-tt.conns/2),
				vocodetest.WithTotalValue(json.RawMessage(tt.total)))
			res, err := newClient(t, s, vocode.Options{PageSize: 100}).Walk(context.Background())
			if err != nil {
				t.Fatalf("walk failed on a hint: %v", err)
			}
			if len(res.Connections) != tt.conns || len(ids(res.Connections)) != tt.conns {
				t.Errorf("got %d connections (%d distinct), want %d", len(res.Connections), len(ids(res.Connections)), tt.conns)
			}
			if res.HasTotal || res.Total != 0 {
				t.Errorf("total %d (has %v), want none", res.Total, res.HasTotal)
			}
			if res.Pages != tt.pages || s.Stats().Requests != tt.pages {
				t.Errorf("pages = %d, requests = %d, want %d", res.Pages, s.Stats().Requests, tt.pages)
			}
		})
	}
}

// An exact total that overstates the list sends the walk to pages past its
// end. Whatever those pages answer, the walk succeeds with the list up to
// the page without has_more, and does not wait for them.
func TestWalkIgnoresPagesPastTheEnd(t *testing.T) {
	retryAfter0 := http.Header{"Retry-After": {"0"}}
	tests := []struct {
		name   string
		faults []vocodetest.Fault
	}{
		{name: "500", faults: []vocodetest.Fault{{Page: 4, Status: 500}}},
		{name: "429", faults: []vocodetest.Fault{{Page: 4, Status: 429, Header: retryAfter0}}},
		{name: "404", faults: []vocodetest.Fault{{Page: 5, Status: 404}}},
		{name: "auth", faults: []vocodetest.Fault{{Page: 4, Status: 401}}},
		{name: "broken body", faults: []vocodetest.Fault{{Page: 4, Handler: vocodetest.Raw(http.StatusOK, "application/json", `{"items":[`)}}},
		{name: "has_more without new ids", faults: []vocodetest.Fault{{Page: 5, Handler: vocodetest.Raw(http.StatusOK, "application/json", `{"items":[],"has_more":true}`)}}},
		{name: "reset mid-body", faults: []vocodetest.Fault{{Page: 4, Handler: vocodetest.ResetMidBody()}}},
		{name: "hang", faults: []vocodetest.Fault{{Page: 5, Hang: true}}},
		{name: "every page past the end hangs", faults: []vocodetest.Fault{{Page: 4, Hang: true}, {Page: 5, Hang: true}}},
		// The failure comes first; the end is only known later.
		{name: "404 before a slow end", faults: []vocodetest.Fault{{Page: 3, Delay: 300 * time.Millisecond}, {Page: 4, Status: 404}}},
		{name: "hang before a slow end", faults: []vocodetest.Fault{{Page: 3, Delay: 300 * time.Millisecond}, {Page: 5, Hang: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 250 connections, 100 a page: the list ends on page 3, the
			// total of 450 claims 5 pages. The latency makes sure pages 4
			// and 5 are asked for before page 3 answers that it is the last.
			s := newServer(t, vocodetest.Dataset(150, 100), vocodetest.WithTotalOffset(200),
				vocodetest.WithLatency(20*time.Millisecond))
			for _, f := range tt.faults {
				s.AddFault(f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			res, err := newClient(t, s, vocode.Options{PageSize: 100, Concurrency: 4}).Walk(ctx)
			if err != nil {
				t.Fatalf("a page past the end failed the walk: %v", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the walk took %v: it waited for pages past the end", took)
			}
			if len(res.Connections) != 250 || len(ids(res.Connections)) != 250 {
				t.Errorf("got %d connections (%d distinct), want 250", len(res.Connections), len(ids(res.Connections)))
			}
			if res.Pages != 5 || res.Total != 450 {
				t.Errorf("pages = %d, total = %d; want 5 (all launched at once), 450", res.Pages, res.Total)
			}
		})
	}
}

// A page that fails before the end of the list fails the walk with its own
// error, but only after the pages before it are done: one of them could
// still end the list before the failure.
func TestWalkFailureBeforeTheEnd(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		faults      []vocodetest.Fault
		want        vocode.Reason
		wantPage    int
		wantServed  []int // pages served in full despite the failure
		wantUnasked []int // pages never asked for
	}{
		{name: "500 on page 2", concurrency: 4, faults: []vocodetest.Fault{{Page: 2, Status: 500}},
			want: vocode.ReasonServerError, wantPage: 2, wantServed: []int{1}},
		{name: "404 on page 3 while a slow page 2 goes on", concurrency: 2,
			faults: []vocodetest.Fault{{Page: 2, Delay: 300 * time.Millisecond}, {Page: 3, Status: 404}},
			want:   vocode.ReasonClientError, wantPage: 3, wantServed: []int{1, 2}, wantUnasked: []int{4, 5}},
		{name: "broken body on page 4, slow pages before it", concurrency: 4,
			faults: []vocodetest.Fault{{Page: 2, Delay: 200 * time.Millisecond}, {Page: 3, Delay: 300 * time.Millisecond},
				{Page: 4, Handler: vocodetest.Raw(http.StatusOK, "application/json", "<html>")}},
			want: vocode.ReasonDecode, wantPage: 4, wantServed: []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 250 connections, 50 a page, an exact total: pages 2..5 are
			// fetched concurrently and page 5 ends the list.
			s := newServer(t, vocodetest.Dataset(150, 100))
			for _, f := range tt.faults {
				s.AddFault(f)
			}
			var mu sync.Mutex
			served := map[int]bool{}
			s.OnPage(func(page int) {
				mu.Lock()
				served[page] = true
				mu.Unlock()
			})
			_, err := newClient(t, s, vocode.Options{PageSize: 50, Concurrency: tt.concurrency}).Walk(context.Background())
			var ve *vocode.Error
			if !errors.As(err, &ve) || ve.Reason != tt.want || ve.Page != tt.wantPage {
				t.Fatalf("err = %v, want %s on page %d", err, tt.want, tt.wantPage)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range tt.wantServed {
				if !served[p] {
					t.Errorf("page %d was not served in full: the failure cancelled a page before it", p)
				}
			}
			for _, p := range tt.wantUnasked {
				if n := s.Stats().Pages[p]; n != 0 {
					t.Errorf("page %d asked for %d times after the walk had failed", p, n)
				}
			}
		})
	}
}
