package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// faultCase is one row of the fault matrix: an API misbehaving in one way,
// and what the exporter must make of it.
type faultCase struct {
	name  string
	conns []vocodetest.Connection // nil: vocodetest.Dataset(3, 2)
	opts  []vocodetest.Option
	// tls serves the fake over HTTPS with a certificate the exporter does
	// not trust; url points the account somewhere else entirely. Either
	// way the account recovers by being pointed at a healthy fake.
	tls bool
	url string
	// key is the key the exporter holds, when it is not the fake's.
	key string
	// repoint recovers by pointing the account at a healthy fake and
	// reloading, for faults that clearing the fake's faults cannot end.
	repoint bool
	args    []string          // more exporter flags
	header  map[string]string // headers of the faulted scrape
	fault   func(t *testing.T, f *vocodetest.Server)
	timeout time.Duration // --vocode.timeout; default 5s
	// walkOutlives: the faulted walk goes on after the scrapes gave up on
	// it, to its own deadline (--vocode.timeout from its start); scrapes
	// until then share it, so recovery shows in the first scrape after.
	walkOutlives bool

	// What the faulted scrape must show.
	reason   vocode.Reason // "" when the walk must succeed despite the fault
	status   int           // HTTP status in the failure log line
	logHas   []string      // substrings of the failure line (or of the log, on success)
	requests int           // requests the fake must have received; 0: unchecked
	minTime  time.Duration // the scrape takes at least this long
	maxTime  time.Duration // and at most this long (default 10s)
	check    func(t *testing.T, f *vocodetest.Server, mfs map[string]*dto.MetricFamily)
	after    func(t *testing.T, f *vocodetest.Server, mfs map[string]*dto.MetricFamily)
}

const (
	// The connection list's collector: faults here hit its endpoint only.
	failedMsg = `msg="collector failed" account=victim collector=connections`
	againMsg  = `msg="collector failed again" account=victim collector=connections`
	okAgain   = `msg="collector succeeds again" account=victim collector=connections`
)

func rawPage(body string) func(*testing.T, *vocodetest.Server) {
	return func(_ *testing.T, f *vocodetest.Server) {
		f.AddFault(vocodetest.Fault{Handler: vocodetest.Raw(http.StatusOK, "application/json", body)})
	}
}

func status(code int, header http.Header, body string) func(*testing.T, *vocodetest.Server) {
	return func(_ *testing.T, f *vocodetest.Server) {
		f.AddFault(vocodetest.Fault{Status: code, Header: header, Body: body})
	}
}

func retryAfter(v string) http.Header { return http.Header{"Retry-After": {v}} }

// item is one connection as raw JSON, credentials included.
func item(id, typ string) string {
	return fmt.Sprintf(`{"id":%q,"type":%q,"credentials":{"twilio_auth_token":%q}}`, id, typ, canaryCred)
}

// oneTwilioNoTotal checks a walk that found one Twilio connection and no
// usable total.
func oneTwilioNoTotal(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	counts(map[string]float64{"twilio": 1, "openai": 0})(t, nil, mfs)
	if v, ok := value(t, mfs, "vocode_account_connections_reported", "account", accountName); ok {
		t.Errorf("vocode_account_connections_reported = %v though the API gave no usable total", v)
	}
}

// counts checks vocode_account_connections of the victim by type.
func counts(want map[string]float64) func(*testing.T, *vocodetest.Server, map[string]*dto.MetricFamily) {
	return func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
		t.Helper()
		for typ, n := range want {
			if got := mustValue(t, mfs, "vocode_account_connections", "account", accountName, "type", typ); got != n {
				t.Errorf("vocode_account_connections{type=%q} = %v, want %v", typ, got, n)
			}
		}
		infos := labelValues(mfs, "vocode_account_connection_info", accountName, "connection_id")
		var total float64
		for _, n := range want {
			total += n
		}
		if float64(len(infos)) != total {
			t.Errorf("%d vocode_account_connection_info series, want %v", len(infos), total)
		}
	}
}

func faultCases(t *testing.T) []faultCase {
	// Where redirects point: neither may ever see a request, let alone the
	// key. Go's client would itself drop Authorization on the way to
	// another host name, but not to another port of the same host.
	otherHost, otherHostURL := newRecorder(t)
	otherHostURL = strings.Replace(otherHostURL, "127.0.0.1", "localhost", 1)
	otherPort, otherPortURL := newRecorder(t)

	// A name that cannot resolve (RFC 2606). If this machine has no DNS
	// at all, the lookup times out instead of failing: expect that then.
	dnsReason := vocode.ReasonTransport
	dnsLog := "no such host"
	if _, err := net.LookupHost("vocode.invalid"); err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsTimeout {
			dnsReason, dnsLog = vocode.ReasonTimeout, "vocode.invalid"
		}
	}

	shift := func(grow bool) func(*testing.T, *vocodetest.Server) {
		return func(_ *testing.T, f *vocodetest.Server) {
			var once sync.Once
			f.OnPage(func(page int) {
				if page != 2 {
					return
				}
				once.Do(func() {
					f.MutateConnections(func(items []json.RawMessage) []json.RawMessage {
						if grow {
							for i := range 6 {
								items = append(items, vocodetest.RawItem(json.RawMessage(item(fmt.Sprintf("grown-%d", i), vocode.TypeOpenAI))).Raw)
							}
							return items
						}
						fresh := vocodetest.RawItem(json.RawMessage(item("inserted-first", vocode.TypeOpenAI))).Raw
						return append([]json.RawMessage{fresh}, items...)
					})
				})
			})
		}
	}

	pool := vocodetest.TwilioConnection(0, 100_000, true)
	dup := vocodetest.Dataset(3, 2)
	dup = append(dup[:3:3], append([]vocodetest.Connection{dup[0]}, dup[3:]...)...)
	anyCaller := true

	return []faultCase{
		// Error statuses.
		{name: "401", fault: status(401, nil, `{"detail":"Invalid API key"}`), reason: vocode.ReasonAuth, status: 401, requests: 1, logHas: []string{"Invalid API key"}},
		{name: "403", fault: status(403, nil, `{"detail":"Not authenticated"}`), reason: vocode.ReasonAuth, status: 403, requests: 1},
		{name: "wrong key", key: "not-the-right-key", repoint: true, reason: vocode.ReasonAuth, status: 401, requests: 1},
		{name: "404", fault: status(404, nil, ""), reason: vocode.ReasonClientError, status: 404, requests: 1, logHas: []string{"Not Found"}},
		{name: "422 on page", fault: status(422, nil, `{"detail":[{"loc":["query","page"],"msg":"Input should be greater than or equal to 1","type":"greater_than_equal"}]}`),
			reason: vocode.ReasonClientError, status: 422, requests: 1, logHas: []string{"query.page: Input should be greater"}},
		{name: "422 on size halves the page size", opts: []vocodetest.Option{vocodetest.WithMaxPageSize(50)},
			requests: 2, logHas: []string{`level=WARN`, "API rejected the page size", "endpoint=account_connections_list", "rejected=100", "page_size=50", "account=" + accountName},
			after: func(t *testing.T, f *vocodetest.Server, _ map[string]*dto.MetricFamily) {
				if n := f.Stats().PageSizes[100]; n != 1 {
					t.Errorf("size 100 asked for %d times over two scrapes, want once: the size that works is remembered", n)
				}
			}},
		{name: "422 on size below the minimum", opts: []vocodetest.Option{vocodetest.WithMaxPageSize(5)}, repoint: true,
			reason: vocode.ReasonClientError, status: 422, requests: 5, logHas: []string{"query.size"},
			check: func(t *testing.T, f *vocodetest.Server, _ map[string]*dto.MetricFamily) {
				for _, size := range []int{100, 50, 25, 12, 10} {
					if f.Stats().PageSizes[size] != 1 {
						t.Errorf("page sizes asked for: %v, want 100, 50, 25, 12, 10 once each", f.Stats().PageSizes)
						break
					}
				}
			}},
		{name: "429", fault: status(429, nil, `{"detail":"All steering pool numbers are busy"}`), reason: vocode.ReasonRateLimited, status: 429, requests: 3},
		{name: "429 Retry-After honoured", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Times: 1, Status: 429, Header: retryAfter("1")})
		}, requests: 2, minTime: time.Second},
		{name: "429 Retry-After beyond the deadline", fault: status(429, retryAfter("3600"), ""),
			reason: vocode.ReasonRateLimited, status: 429, requests: 1, maxTime: 3 * time.Second},
		{name: "500", fault: status(500, nil, `{"detail":"Internal Server Error"}`), reason: vocode.ReasonServerError, status: 500, requests: 3},
		{name: "502 HTML from a proxy", fault: status(502, http.Header{"Content-Type": {"text/html"}}, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
			reason: vocode.ReasonServerError, status: 502, requests: 3, logHas: []string{"non-JSON body of"}},
		{name: "503", fault: status(503, nil, ""), reason: vocode.ReasonServerError, status: 503, requests: 3},
		{name: "503 Retry-After honoured", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Times: 1, Status: 503, Header: retryAfter("1")})
		}, requests: 2, minTime: time.Second},
		{name: "503 Retry-After every time", fault: status(503, retryAfter("1"), ""),
			reason: vocode.ReasonServerError, status: 503, requests: 3, minTime: 2 * time.Second},
		{name: "400 echoing the key", fault: status(400, nil, `{"detail":"key `+canaryKey+` is not valid here"}`),
			reason: vocode.ReasonClientError, status: 400, requests: 1, logHas: []string{"key <secret> is not valid here"}},
		{name: "later page fails", conns: vocodetest.Dataset(15, 10), args: []string{"--vocode.page-size=10"},
			fault: func(_ *testing.T, f *vocodetest.Server) {
				f.AddFault(vocodetest.Fault{Page: 3, Status: 500})
			}, reason: vocode.ReasonServerError, status: 500, logHas: []string{"on page 3"}},

		// Slow and hanging.
		{name: "slow within the deadline", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Delay: 300 * time.Millisecond})
		}, minTime: 300 * time.Millisecond, requests: 1},
		{name: "slow beyond the deadline", timeout: time.Second, fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Delay: 20 * time.Second})
		}, reason: vocode.ReasonTimeout, minTime: time.Second, maxTime: 3 * time.Second},
		{name: "hanging", timeout: time.Second, fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Hang: true})
		}, reason: vocode.ReasonTimeout, requests: 1, minTime: time.Second, maxTime: 3 * time.Second},
		{name: "hanging, Prometheus scrape timeout wins", timeout: 4 * time.Second, walkOutlives: true,
			header: map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
			fault: func(_ *testing.T, f *vocodetest.Server) {
				f.AddFault(vocodetest.Fault{Hang: true})
			}, reason: vocode.ReasonTimeout, requests: 1, minTime: time.Second, maxTime: 2500 * time.Millisecond},

		// Bodies.
		{name: "malformed JSON", fault: rawPage(`{"items":[` + item("a", vocode.TypeTwilio) + `,{"id":`),
			reason: vocode.ReasonDecode, status: 200, requests: 1, logHas: []string{"malformed page"}},
		{name: "not JSON at all", fault: rawPage(`<html>hello</html>`),
			reason: vocode.ReasonDecode, status: 200, requests: 1, logHas: []string{"invalid JSON at offset"}},
		{name: "huge body", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Handler: vocodetest.Huge(33 << 20)})
		}, reason: vocode.ReasonTooLarge, status: 200, requests: 1, logHas: []string{"exceeds the 33554432 byte limit"}},
		{name: "huge Content-Length", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(40<<20))
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, `{"items":[`)
			}})
		}, reason: vocode.ReasonTooLarge, status: 200, requests: 1, logHas: []string{"Content-Length 41943040"}},
		{name: "connection reset mid-body", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Handler: vocodetest.ResetMidBody()})
		}, reason: vocode.ReasonTransport, requests: 3, logHas: []string{"reading body"}},
		{name: "items null", fault: rawPage(`{"items":null,"page":1,"size":100,"has_more":false}`),
			reason: vocode.ReasonDecode, status: 200, logHas: []string{"page has no items list"}},
		{name: "has_more missing", fault: rawPage(`{"items":[` + item("a", vocode.TypeTwilio) + `],"page":1,"size":100}`),
			reason: vocode.ReasonDecode, status: 200, logHas: []string{"page has no has_more field"}},
		{name: "empty body with 200", fault: rawPage(""),
			reason: vocode.ReasonDecode, status: 200, logHas: []string{"empty body"}},
		// page, total and total_is_estimated are hints: a value that makes
		// no sense costs the hint, not the page. has_more is the truth.
		{name: "hints sent as strings", fault: rawPage(`{"items":[` + item("a", vocode.TypeTwilio) + `],"page":"1","has_more":false,"total":"1","total_is_estimated":"no"}`),
			requests: 1, check: oneTwilioNoTotal},
		{name: "negative total", fault: rawPage(`{"items":[` + item("a", vocode.TypeTwilio) + `],"page":1,"has_more":false,"total":-1,"total_is_estimated":false}`),
			requests: 1, check: oneTwilioNoTotal},
		{name: "has_more sent as a string", fault: rawPage(`{"items":[` + item("a", vocode.TypeTwilio) + `],"page":1,"has_more":"false","total":1}`),
			reason: vocode.ReasonDecode, status: 200, requests: 1, logHas: []string{`holds a string where a boolean was expected`}},
		{name: "steering pool sent as a string", fault: rawPage(`{"items":[{"id":"a","type":"account_connection_twilio","steering_pool":"+15550000000"}],"page":1,"has_more":false}`),
			reason: vocode.ReasonDecode, status: 200, logHas: []string{"steering_pool is not an array"}},
		{name: "invalid UTF-8 between values", fault: rawPage("{\"items\":[],\"page\":1,\"has_more\":false}\xff\xfe"),
			reason: vocode.ReasonDecode, status: 200},
		{name: "invalid UTF-8 in an error detail", fault: status(400, nil, "{\"detail\":\"bad \xff\xfe request\"}"),
			reason: vocode.ReasonClientError, status: 400, logHas: []string{"bad \uFFFD\uFFFD request"}},
		{name: "invalid UTF-8 in an id", conns: []vocodetest.Connection{
			{Raw: json.RawMessage("{\"id\":\"id-\xff\xfe-1\",\"type\":\"account_connection_twilio\",\"credentials\":{\"twilio_auth_token\":\"" + canaryCred + "\xff\"}}")},
			vocodetest.OpenAIConnection(1),
		}, requests: 1, check: func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
			counts(map[string]float64{"twilio": 1, "openai": 1})(t, nil, mfs)
			ids := labelValues(mfs, "vocode_account_connection_info", accountName, "connection_id")
			if len(ids) == 0 || ids[len(ids)-1] != "id-\uFFFD\uFFFD-1" {
				t.Errorf("connection ids %q: want the invalid bytes replaced by U+FFFD", ids)
			}
		}},

		// Pagination.
		{name: "page number mismatch", fault: rawPage(`{"items":[` + item("a", vocode.TypeTwilio) + `],"page":2,"size":100,"has_more":false}`),
			reason: vocode.ReasonPagination, status: 200, requests: 1, logHas: []string{"asked for page 1, the API served page 2"}},
		{name: "total overstating the list, pages past the end fail", conns: vocodetest.Dataset(15, 10),
			opts: []vocodetest.Option{vocodetest.WithTotalOffset(20)}, args: []string{"--vocode.page-size=10", "--vocode.concurrency=4"},
			fault: func(_ *testing.T, f *vocodetest.Server) {
				// The list ends on page 3; the total of 45 claims 5 pages.
				f.AddFault(vocodetest.Fault{Page: 4, Status: 500})
				f.AddFault(vocodetest.Fault{Page: 5, Hang: true})
			}, maxTime: 3 * time.Second, check: counts(map[string]float64{"twilio": 15, "openai": 10})},
		{name: "has_more without new ids", conns: vocodetest.Dataset(8, 7), args: []string{"--vocode.page-size=10"},
			fault: func(_ *testing.T, f *vocodetest.Server) {
				// Page 2 serves page 1's first item again and insists
				// there is more: an endless walk unless caught.
				c := vocodetest.Dataset(1, 0)[0]
				f.AddFault(vocodetest.Fault{Page: 2, Handler: vocodetest.Raw(http.StatusOK, "application/json",
					`{"items":[`+item(c.ID, c.Type)+`],"has_more":true}`)})
			}, reason: vocode.ReasonPagination, requests: 2, logHas: []string{"no connection not seen before"}},
		{name: "same id twice in one page", conns: dup, requests: 1, check: func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
			counts(map[string]float64{"twilio": 3, "openai": 2})(t, nil, mfs)
			if got := mustValue(t, mfs, "vocode_account_connections_reported", "account", accountName); got != 6 {
				t.Errorf("reported total %v, want the API's 6", got)
			}
		}},
		{name: "list shifting while walked", conns: vocodetest.Dataset(25, 0),
			args: []string{"--vocode.page-size=10", "--vocode.concurrency=1"}, fault: shift(false),
			requests: 3, check: func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
				// Page 2 repeats page 1's last item after the insertion:
				// it counts once; the inserted item is missed until the
				// next walk.
				counts(map[string]float64{"twilio": 25, "openai": 0})(t, nil, mfs)
			},
			after: counts(map[string]float64{"twilio": 25, "openai": 1})},
		{name: "list growing while walked", conns: vocodetest.Dataset(25, 0),
			args: []string{"--vocode.page-size=10", "--vocode.concurrency=1"}, fault: shift(true),
			requests: 4, check: func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
				// The total said 3 pages, but the last one says has_more.
				counts(map[string]float64{"twilio": 25, "openai": 6})(t, nil, mfs)
				if got := mustValue(t, mfs, "vocode_scrape_pages", "account", accountName); got != 4 {
					t.Errorf("vocode_scrape_pages %v, want 4", got)
				}
			}},
		{name: "steering pool of 100,000 numbers", conns: []vocodetest.Connection{pool}, requests: 1,
			check: func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
				if got := mustValue(t, mfs, "vocode_twilio_steering_pool_size", "account", accountName, "connection_id", pool.ID); got != 100_000 {
					t.Errorf("steering pool size %v, want 100000", got)
				}
			}},
		{name: "unknown type, optional fields missing, no total", opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalNone)},
			conns: []vocodetest.Connection{
				{ID: "t-1", Type: vocode.TypeTwilio, Credentials: map[string]string{"twilio_auth_token": canaryCred}},
				{ID: "t-2", Type: vocode.TypeTwilio, NullSteeringPool: true, AnyCallerID: &anyCaller},
				{ID: "s-1", Type: "account_connection_sip", Credentials: map[string]string{"sip_password": canaryCred}},
			}, requests: 1, check: func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
				counts(map[string]float64{"twilio": 2, "openai": 0, "sip": 1})(t, nil, mfs)
				for id, want := range map[string]float64{"t-1": 0, "t-2": 0} {
					if got := mustValue(t, mfs, "vocode_twilio_steering_pool_size", "account", accountName, "connection_id", id); got != want {
						t.Errorf("pool of %s = %v, want %v", id, got, want)
					}
				}
				if got := mustValue(t, mfs, "vocode_twilio_account_supports_any_caller_id", "account", accountName, "connection_id", "t-1"); got != 0 {
					t.Errorf("missing account_supports_any_caller_id exported as %v, want 0", got)
				}
				if _, ok := value(t, mfs, "vocode_account_connections_reported", "account", accountName); ok {
					t.Error("vocode_account_connections_reported present though the API gave no total")
				}
			}},
		{name: "estimated total", conns: vocodetest.Dataset(15, 10), args: []string{"--vocode.page-size=10"},
			opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalEstimated)}, requests: 3,
			check: func(t *testing.T, _ *vocodetest.Server, mfs map[string]*dto.MetricFamily) {
				counts(map[string]float64{"twilio": 15, "openai": 10})(t, nil, mfs)
				if got := mustValue(t, mfs, "vocode_account_connections_reported_estimated", "account", accountName); got != 1 {
					t.Errorf("reported_estimated %v, want 1", got)
				}
			}},

		// Where the API is not what it should be.
		{name: "redirect to another host", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Handler: vocodetest.RedirectTo(otherHostURL)})
		}, reason: vocode.ReasonClientError, status: 307, requests: 1, logHas: []string{"redirect not followed"},
			check: otherHost.untouched},
		{name: "redirect to another port", fault: func(_ *testing.T, f *vocodetest.Server) {
			f.AddFault(vocodetest.Fault{Handler: vocodetest.RedirectTo(otherPortURL)})
		}, reason: vocode.ReasonClientError, status: 307, requests: 1, logHas: []string{"redirect not followed"},
			check: otherPort.untouched},
		{name: "TLS certificate does not verify", tls: true, repoint: true,
			reason: vocode.ReasonTransport, logHas: []string{"certificate"}},
		{name: "name does not resolve", url: "https://vocode.invalid", repoint: true, timeout: 3 * time.Second,
			reason: dnsReason, logHas: []string{dnsLog}},
	}
}

// recorder is a server a redirect points to; it records what it receives.
type recorder struct {
	hits  atomic.Int64
	mu    sync.Mutex
	auths []string
}

func newRecorder(t *testing.T) (*recorder, string) {
	r := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		r.mu.Lock()
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[],"page":1,"has_more":false}`)
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

// untouched fails the test if the recorder received anything.
func (r *recorder) untouched(t *testing.T, _ *vocodetest.Server, _ map[string]*dto.MetricFamily) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.hits.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
	for _, a := range r.auths {
		if strings.Contains(a, canaryKey) {
			t.Errorf("the redirect target received the API key")
		}
	}
}

// TestFaultMatrix runs every fault against the built exporter: each case
// has its own exporter process, a fake for the account under test
// ("victim") and a healthy control account that must not notice.
func TestFaultMatrix(t *testing.T) {
	bin := e2e.Build(t)
	cases := faultCases(t)
	// Cases mostly wait on timers: run more of them at once than
	// -parallel (GOMAXPROCS) would allow.
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, tc := range cases {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(tc.name, func(t *testing.T) { runFaultCase(t, bin, tc) })
		})
	}
	wg.Wait()
}

func runFaultCase(t *testing.T, bin string, tc faultCase) {
	conns := tc.conns
	if conns == nil {
		conns = vocodetest.Dataset(3, 2)
	}
	conns = vocodetest.WithCredentials(conns, canaryCred)
	opts := append([]vocodetest.Option{vocodetest.WithAPIKey(canaryKey)}, tc.opts...)
	var fake *vocodetest.Server
	if tc.tls {
		fake = vocodetest.NewUnstartedServer(conns, opts...)
		// The handshakes the exporter aborts are expected here.
		fake.HTTPTest().Config.ErrorLog = log.New(io.Discard, "", 0)
		fake.StartTLS()
	} else {
		fake = vocodetest.NewServer(conns, opts...)
	}
	t.Cleanup(fake.Close)
	control := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(2, 1), canaryCred),
		vocodetest.WithAPIKey(canaryKey2))
	t.Cleanup(control.Close)

	dir := t.TempDir()
	key := canaryKey
	if tc.key != "" {
		key = tc.key
	}
	keyFile := writeFile(t, dir, "victim.key", key+"\n")
	controlKey := writeFile(t, dir, "control.key", canaryKey2+"\n")
	cfg := filepath.Join(dir, "config.yml")
	victimURL := fake.URL
	if tc.url != "" {
		victimURL = tc.url
	}
	writeConfig(t, cfg, account{accountName, victimURL, keyFile}, account{controlName, control.URL, controlKey})

	if tc.fault != nil {
		tc.fault(t, fake)
	}
	timeout := tc.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	args := append([]string{"--config.file=" + cfg, "--log.level=debug",
		"--vocode.timeout=" + timeout.String()}, tc.args...)
	exp := e2e.Start(t, bin, e2e.Options{Args: args})

	// The faulted scrape.
	start := time.Now()
	body, mfs := scrapeWith(t, exp, tc.header)
	took := time.Since(start)
	assertNoSecrets(t, "/metrics", body)

	mustUp(t, mfs, controlName, 1)
	counts := reasonCounts(t, mfs, accountName)
	if tc.reason == "" {
		mustUp(t, mfs, accountName, 1)
		for r, n := range counts {
			if n != 0 {
				t.Errorf("vocode_scrape_errors_total{reason=%q} = %v after a walk that succeeded", r, n)
			}
		}
		if len(tc.logHas) > 0 {
			if len(waitLines(exp, 1, tc.logHas...)) == 0 {
				t.Errorf("no log line holds all of %q", tc.logHas)
			}
		}
		time.Sleep(100 * time.Millisecond) // let the log catch up
		if lines := logLines(exp.Logs(), "account="+accountName, "collector failed"); len(lines) > 0 {
			t.Errorf("failure logged for a walk that succeeded: %q", lines)
		}
	} else {
		mustUp(t, mfs, accountName, 0)
		for r, n := range counts {
			want := 0.0
			if r == tc.reason {
				want = 1
			}
			if n != want {
				t.Errorf("vocode_scrape_errors_total{reason=%q} = %v, want %v", r, n, want)
			}
		}
		for _, name := range []string{"vocode_account_connections", "vocode_account_connection_info",
			"vocode_account_connections_reported", "vocode_twilio_steering_pool_size",
			"vocode_twilio_account_supports_any_caller_id"} {
			if s := series(mfs, name, "account", accountName); len(s) > 0 {
				t.Errorf("%s exported for a failed walk: an outage must not look like data", name)
			}
		}
		checkFailureLine(t, exp, tc)
	}
	if tc.requests > 0 {
		if got := fake.Stats().Requests; got != tc.requests {
			t.Errorf("the fake received %d requests, want %d (%v)", got, tc.requests, fake.Stats().Pages)
		}
	}
	if took < tc.minTime {
		t.Errorf("the scrape took %v, want at least %v", took, tc.minTime)
	}
	maxTime := tc.maxTime
	if maxTime == 0 {
		maxTime = 10 * time.Second
	}
	if took > maxTime {
		t.Errorf("the scrape took %v, want at most %v", took, maxTime)
	}
	if tc.check != nil {
		tc.check(t, fake, mfs)
	}

	if tc.reason != "" {
		// The same failure again: counted again, logged at debug level
		// only, so that an outage does not flood the log.
		body, mfs = scrapeWith(t, exp, tc.header)
		assertNoSecrets(t, "/metrics", body)
		mustUp(t, mfs, accountName, 0)
		if got := mustValue(t, mfs, "vocode_scrape_errors_total", "account", accountName, "collector", "connections", "reason", string(tc.reason)); got != 2 {
			t.Errorf("after two failed walks vocode_scrape_errors_total{reason=%q} = %v, want 2", tc.reason, got)
		}
		if n := len(waitLines(exp, 1, "account="+accountName, againMsg, "level=DEBUG")); n != 1 {
			t.Errorf("%d debug lines for the repeated failure, want 1", n)
		}
		if n := len(logLines(exp.Logs(), "account="+accountName, failedMsg)); n != 1 {
			t.Errorf("%d error lines after the same failure twice, want 1", n)
		}
	}

	// Recovery: the fault ends, and the very next scrape is good.
	if tc.repoint {
		healthy := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(3, 2), canaryCred),
			vocodetest.WithAPIKey(canaryKey))
		t.Cleanup(healthy.Close)
		replaceFile(t, keyFile, canaryKey+"\n")
		writeConfig(t, cfg, account{accountName, healthy.URL, keyFile}, account{controlName, control.URL, controlKey})
		if code, answer := postReload(t, exp); code != http.StatusOK {
			t.Fatalf("reload answered %d: %s", code, answer)
		} else {
			assertNoSecrets(t, "the /-/reload answer", answer)
		}
	} else {
		fake.ClearFaults()
		fake.OnPage(nil)
	}
	if tc.walkOutlives {
		// The walk the faulted scrapes shared ends by its deadline, not
		// before: wait for the event that shows it ended, the API let go
		// of its hanging request. Its deadline has passed by then, so the
		// next scrape starts a walk of its own. The bound only keeps a
		// walk that never ends from hanging the test.
		for hung := time.Now().Add(time.Minute); fake.InFlight() > 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(hung) {
				t.Fatalf("the faulted walk still holds a request %v after its start", time.Since(start))
			}
		}
		if took := time.Since(start); took < timeout {
			t.Errorf("the faulted walk ended %v after its start, before its %v deadline", took, timeout)
		}
	}
	body, mfs = scrape(t, exp)
	assertNoSecrets(t, "/metrics", body)
	mustUp(t, mfs, accountName, 1)
	mustUp(t, mfs, controlName, 1)
	if tc.conns == nil {
		countsOf := map[string]float64{"twilio": 3, "openai": 2}
		for typ, n := range countsOf {
			if got := mustValue(t, mfs, "vocode_account_connections", "account", accountName, "type", typ); got != n {
				t.Errorf("after recovery vocode_account_connections{type=%q} = %v, want %v", typ, got, n)
			}
		}
	}
	if tc.reason != "" {
		if got := mustValue(t, mfs, "vocode_scrape_errors_total", "account", accountName, "collector", "connections", "reason", string(tc.reason)); got != 2 {
			t.Errorf("a good walk changed vocode_scrape_errors_total{reason=%q} to %v", tc.reason, got)
		}
		// A reload starts the account afresh; otherwise the recovery is
		// logged, once, with the reason it ends.
		if !tc.repoint && len(waitLines(exp, 1, "account="+accountName, okAgain, "after="+string(tc.reason))) != 1 {
			t.Errorf("recovery not logged once with the reason it recovered from")
		}
	}
	if tc.after != nil {
		tc.after(t, fake, mfs)
	}
	if tc.reason == "" && len(tc.logHas) > 0 {
		// Said once, not at every scrape.
		if n := len(waitLines(exp, 1, tc.logHas...)); n != 1 {
			t.Errorf("%d log lines hold %q after two scrapes, want 1", n, tc.logHas)
		}
	}
	// A reload answers without a secret too.
	if code, answer := postReload(t, exp); code != http.StatusOK {
		t.Errorf("POST /-/reload answered %d: %s", code, answer)
	} else {
		assertNoSecrets(t, "the /-/reload answer", answer)
	}
	if !utf8.ValidString(exp.Logs()) {
		t.Error("the log is not valid UTF-8")
	}
	assertProcessClean(t, exp)
}

// scrapeWith scrapes with extra request headers.
func scrapeWith(t *testing.T, exp *e2e.Exporter, header map[string]string) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	if len(header) == 0 {
		return scrape(t, exp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, exp.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v\n%s", resp.StatusCode, err, b)
	}
	return string(b), families(t, string(b))
}

func mustUp(t *testing.T, mfs map[string]*dto.MetricFamily, acct string, want float64) {
	t.Helper()
	if got := mustValue(t, mfs, "vocode_up", "account", acct); got != want {
		t.Errorf("vocode_up{account=%q} = %v, want %v", acct, got, want)
	}
}

// checkFailureLine finds the one error line the failure produced and checks
// what it says.
func checkFailureLine(t *testing.T, exp *e2e.Exporter, tc faultCase) {
	t.Helper()
	lines := waitLines(exp, 1, "account="+accountName, failedMsg)
	if len(lines) != 1 {
		t.Errorf("%d failure lines for the account, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
		return
	}
	line := lines[0]
	if lvl := levelOf(line); lvl != "ERROR" {
		t.Errorf("failure logged at level %q, want ERROR: %s", lvl, line)
	}
	if !strings.Contains(line, "reason="+string(tc.reason)+" ") {
		t.Errorf("failure line lacks reason=%s: %s", tc.reason, line)
	}
	if tc.status != 0 && !strings.Contains(line, "status="+strconv.Itoa(tc.status)) {
		t.Errorf("failure line lacks status=%d: %s", tc.status, line)
	}
	for _, s := range tc.logHas {
		if !strings.Contains(line, s) {
			t.Errorf("failure line lacks %q: %s", s, line)
		}
	}
	if len(line) > 1024 {
		t.Errorf("failure line is %d bytes long: a raw body reached the log?", len(line))
	}
	if strings.Contains(line, "account="+controlName) {
		t.Errorf("the failure is blamed on the control account: %s", line)
	}
}
