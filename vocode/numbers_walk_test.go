package vocode_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// numbersServer serves n numbers of the fake's mix, attached to a few
// connections, besides those connections.
func numbersServer(t *testing.T, n int, opts ...vocodetest.Option) (*vocodetest.Server, []vocodetest.Number) {
	t.Helper()
	conns := vocodetest.Dataset(3, 2)
	nums := vocodetest.Numbers(n, conns)
	return newServer(t, conns, append([]vocodetest.Option{vocodetest.WithNumbers(nums)}, opts...)...), nums
}

// wantNumber is what the client should make of a number the fake serves.
func wantNumber(n vocodetest.Number) vocode.Number {
	w := vocode.Number{ID: n.ID, Number: n.Number, Label: n.Label, Provider: n.Provider, Active: n.Active,
		OutboundOnly: n.OutboundOnly, HasInboundAgent: n.InboundAgent != "", ConnectionID: n.ConnectionID}
	if n.Connection != nil {
		w.ConnectionID = n.Connection.ID
	}
	return w
}

func numberIDs(nums []vocode.Number) map[string]int {
	m := map[string]int{}
	for _, n := range nums {
		m[n.ID]++
	}
	return m
}

func numbersStats(s *vocodetest.Server) vocodetest.EndpointStats {
	return s.Stats().Endpoints[vocodetest.EndpointNumbers]
}

func TestWalkNumbers(t *testing.T) {
	tests := []struct {
		name      string
		numbers   int
		opts      []vocodetest.Option
		pageSize  int
		wantPages int
		wantTotal bool
	}{
		{name: "exact total, concurrent pages", numbers: 250, pageSize: 100, wantPages: 3, wantTotal: true},
		{name: "estimated total, page by page", numbers: 250, pageSize: 100, wantPages: 3, wantTotal: true,
			opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalEstimated)}},
		{name: "no total (pre-2024 API)", numbers: 250, pageSize: 100, wantPages: 3,
			opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalNone)}},
		{name: "no numbers", numbers: 0, pageSize: 100, wantPages: 1, wantTotal: true},
		{name: "exactly full pages", numbers: 200, pageSize: 100, wantPages: 2, wantTotal: true},
		{name: "many small pages", numbers: 500, pageSize: 10, wantPages: 50, wantTotal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, data := numbersServer(t, tt.numbers, tt.opts...)
			res, err := newClient(t, s, vocode.Options{PageSize: tt.pageSize}).WalkNumbers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Numbers) != tt.numbers || len(numberIDs(res.Numbers)) != tt.numbers {
				t.Fatalf("got %d numbers (%d distinct), want %d", len(res.Numbers), len(numberIDs(res.Numbers)), tt.numbers)
			}
			if got := numbersStats(s).Requests; res.Pages != tt.wantPages || got != tt.wantPages {
				t.Errorf("pages = %d, requests = %d, want %d", res.Pages, got, tt.wantPages)
			}
			if s.Stats().Requests != 0 {
				t.Errorf("the numbers walk asked the connection list %d times", s.Stats().Requests)
			}
			if res.HasTotal != tt.wantTotal || (tt.wantTotal && res.Total != tt.numbers) {
				t.Errorf("total = %d (has %v), want %d (has %v)", res.Total, res.HasTotal, tt.numbers, tt.wantTotal)
			}
			if res.PageSize != tt.pageSize {
				t.Errorf("page size %d, want %d", res.PageSize, tt.pageSize)
			}
			for i, n := range res.Numbers {
				if want := wantNumber(data[i]); n != want {
					t.Fatalf("number %d is %+v\nwant %+v", i, n, want)
				}
			}
		})
	}
}

// The mix holds every shape: check the walk saw each, not only that it
// matched the data set.
func TestWalkNumbersMix(t *testing.T) {
	s, _ := numbersServer(t, 24)
	res, err := newClient(t, s, vocode.Options{}).WalkNumbers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conns := map[string]bool{}
	for _, c := range vocodetest.Dataset(3, 2) {
		conns[c.ID] = true
	}
	count := map[string]int{}
	for _, n := range res.Numbers {
		count["provider "+n.Provider]++
		switch {
		case n.ConnectionID == "":
			count["no connection"]++
		case conns[n.ConnectionID]:
			count["connection"]++
		default:
			count["gone connection"]++
		}
		if n.HasInboundAgent {
			count["agent"]++
		}
		if !n.Active {
			count["inactive"]++
		}
		if n.OutboundOnly {
			count["outbound only"]++
		}
	}
	want := map[string]int{"provider twilio": 16, "provider vonage": 8, "no connection": 12, "connection": 8,
		"gone connection": 4, "agent": 18, "inactive": 4, "outbound only": 3}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%d numbers with %s, want %d", count[k], k, v)
		}
	}
}

// A number inserted at the front while the walk runs shifts every later
// page by one: the number at each page boundary comes twice, counts once.
func TestWalkNumbersCountsShiftedItemsOnce(t *testing.T) {
	s, data := numbersServer(t, 300, vocodetest.WithTotal(vocodetest.TotalNone))
	var shifted atomic.Bool
	s.OnServe(vocodetest.EndpointNumbers, func(page int) {
		if page == 2 && shifted.CompareAndSwap(false, true) {
			extra := vocodetest.Numbers(1, nil)[0]
			extra.ID = vocodetest.ID("e", 1)
			s.SetNumbers(append([]vocodetest.Number{extra}, data...))
		}
	})
	res, err := newClient(t, s, vocode.Options{PageSize: 100}).WalkNumbers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range numberIDs(res.Numbers) {
		if n != 1 {
			t.Errorf("number %s counted %d times", id, n)
		}
	}
	if len(res.Numbers) != 300 || res.Pages != 4 {
		t.Errorf("got %d numbers in %d pages, want the 300 walked past in 4", len(res.Numbers), res.Pages)
	}
}

// Each list learns its own page size: the numbers list rejecting 100
// leaves the connection list asking for 100.
func TestWalkNumbersLearnsItsOwnPageSize(t *testing.T) {
	s, _ := numbersServer(t, 80, vocodetest.WithMaxPageSizeFor(vocodetest.EndpointNumbers, 30))
	c := newClient(t, s, vocode.Options{PageSize: 100})
	res, err := c.WalkNumbers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.NumbersPageSize() != 25 || res.PageSize != 25 || len(res.Numbers) != 80 {
		t.Fatalf("numbers page size %d (result %d), %d numbers; want 25, 80", c.NumbersPageSize(), res.PageSize, len(res.Numbers))
	}
	if c.PageSize() != 100 {
		t.Errorf("connection list page size %d, want 100 still", c.PageSize())
	}
	s.ResetStats()
	if _, err := c.Walk(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WalkNumbers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().PageSizes; len(got) != 1 || got[100] != 1 {
		t.Errorf("the connection list was asked for sizes %v, want 100 once", got)
	}
	if got := numbersStats(s).PageSizes; len(got) != 1 || got[25] != 4 {
		t.Errorf("the numbers list was asked for sizes %v, want only 25 (4 pages)", got)
	}
}

// A size learned by an earlier client carries over, as PageSize does.
func TestNumbersPageSizeOption(t *testing.T) {
	tests := []struct{ pageSize, numbersPageSize, want int }{
		{0, 0, vocode.DefaultPageSize}, {50, 0, 50}, {50, 25, 25}, {50, 3, vocode.MinPageSize},
	}
	for _, tt := range tests {
		c, err := vocode.New("https://api.vocode.dev", "k", vocode.Options{PageSize: tt.pageSize, NumbersPageSize: tt.numbersPageSize})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.NumbersPageSize(); got != tt.want {
			t.Errorf("PageSize %d, NumbersPageSize %d: numbers page size %d, want %d", tt.pageSize, tt.numbersPageSize, got, tt.want)
		}
	}
}

// total is a hint for numbers as for connections.
func TestWalkNumbersTotalHints(t *testing.T) {
	for _, total := range []string{`-1`, `250.5`, `"250"`, `null`, `{"value":250}`, `1000000001`} {
		t.Run(total, func(t *testing.T) {
			s, _ := numbersServer(t, 250, vocodetest.WithTotalValue(json.RawMessage(total)))
			res, err := newClient(t, s, vocode.Options{PageSize: 100}).WalkNumbers(context.Background())
			if err != nil {
				t.Fatalf("walk failed on a hint: %v", err)
			}
			if len(res.Numbers) != 250 || res.HasTotal || res.Pages != 3 || numbersStats(s).Requests != 3 {
				t.Errorf("%d numbers, has total %v, %d pages, %d requests; want 250, false, 3, 3",
					len(res.Numbers), res.HasTotal, res.Pages, numbersStats(s).Requests)
			}
		})
	}
}

// An overstated total sends the walk past the end of the numbers; what
// those pages answer does not matter.
func TestWalkNumbersIgnoresPagesPastTheEnd(t *testing.T) {
	tests := []struct {
		name   string
		faults []vocodetest.Fault
	}{
		{name: "500", faults: []vocodetest.Fault{{Page: 4, Status: 500}}},
		{name: "404", faults: []vocodetest.Fault{{Page: 5, Status: 404}}},
		{name: "broken body", faults: []vocodetest.Fault{{Page: 4, Handler: vocodetest.Raw(http.StatusOK, "application/json", `{"items":[`)}}},
		{name: "hang", faults: []vocodetest.Fault{{Page: 4, Hang: true}, {Page: 5, Hang: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 250 numbers, 100 a page: the list ends on page 3, the total
			// of 450 claims 5 pages. The latency lets every page be
			// launched before page 3 can end the list, even on a busy
			// machine.
			s, _ := numbersServer(t, 250, vocodetest.WithTotalOffset(200), vocodetest.WithLatency(20*time.Millisecond))
			for _, f := range tt.faults {
				f.Endpoint = vocodetest.EndpointNumbers
				s.AddFault(f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			res, err := newClient(t, s, vocode.Options{PageSize: 100, Concurrency: 4}).WalkNumbers(ctx)
			if err != nil {
				t.Fatalf("a page past the end failed the walk: %v", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("the walk took %v: it waited for pages past the end", took)
			}
			if len(res.Numbers) != 250 || res.Pages != 5 || res.Total != 450 {
				t.Errorf("%d numbers, %d pages, total %d; want 250, 5, 450", len(res.Numbers), res.Pages, res.Total)
			}
		})
	}
}

func TestWalkNumbersErrors(t *testing.T) {
	retryAfter0 := http.Header{"Retry-After": {"0"}}
	const canary = "AC0123456789abcdef0123456789abcdef"
	tests := []struct {
		name         string
		fault        vocodetest.Fault
		key          string
		timeout      time.Duration
		want         vocode.Reason
		wantStatus   int
		wantPage     int
		wantRequests int
		wantDetail   string
	}{
		{name: "wrong key", key: "wrong", want: vocode.ReasonAuth, wantStatus: 401, wantPage: 1, wantRequests: 1, wantDetail: "Invalid API key"},
		{name: "403", fault: vocodetest.Fault{Status: 403}, want: vocode.ReasonAuth, wantStatus: 403, wantPage: 1, wantRequests: 1},
		{name: "429 retried twice", fault: vocodetest.Fault{Status: 429, Header: retryAfter0}, want: vocode.ReasonRateLimited, wantStatus: 429, wantPage: 1, wantRequests: 3},
		{name: "500 on page 2, retried twice", fault: vocodetest.Fault{Page: 2, Status: 500}, want: vocode.ReasonServerError, wantStatus: 500, wantPage: 2},
		{name: "hanging API", fault: vocodetest.Fault{Hang: true}, timeout: 200 * time.Millisecond, want: vocode.ReasonTimeout, wantPage: 1, wantRequests: 1},
		{name: "malformed JSON", fault: vocodetest.Fault{Handler: vocodetest.Raw(200, "application/json", `{"items":[`)},
			want: vocode.ReasonDecode, wantStatus: 200, wantPage: 1, wantRequests: 1, wantDetail: "body ends before the page does"},
		{name: "a number without number", fault: vocodetest.Fault{Handler: vocodetest.Raw(200, "application/json",
			`{"items":[{"id":"n1","user_id":"u"}],"has_more":false}`)},
			want: vocode.ReasonDecode, wantStatus: 200, wantPage: 1, wantRequests: 1, wantDetail: "item 0 has no number"},
		{name: "a credential echoed in a detail", fault: vocodetest.Fault{Status: 400, Body: `{"detail":"connection ` + canary + ` is suspended"}`},
			want: vocode.ReasonClientError, wantStatus: 400, wantPage: 1, wantRequests: 1, wantDetail: "connection <redacted> is suspended"},
		{name: "has_more without new numbers", fault: vocodetest.Fault{Page: 2, Handler: vocodetest.Raw(200, "application/json", `{"items":[],"page":2,"has_more":true}`)},
			want: vocode.ReasonPagination, wantPage: 2, wantDetail: "brings no number not seen before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := numbersServer(t, 250, vocodetest.WithTotal(vocodetest.TotalNone))
			tt.fault.Endpoint = vocodetest.EndpointNumbers
			s.AddFault(tt.fault)
			// A fault of the connection list leaves the numbers alone.
			s.AddFault(vocodetest.Fault{Status: 418})
			key := s.APIKey
			if tt.key != "" {
				key = tt.key
			}
			c, err := vocode.New(s.URL, key, vocode.Options{PageSize: 100, Backoff: time.Millisecond})
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
			_, err = c.WalkNumbers(ctx)
			var ve *vocode.Error
			if !errors.As(err, &ve) || ve.Reason != tt.want || ve.Endpoint != vocode.EndpointNumbers || ve.Page != tt.wantPage {
				t.Fatalf("err = %#v (%v), want %s on page %d of %s", err, err, tt.want, tt.wantPage, vocode.EndpointNumbers)
			}
			if ve.Status != tt.wantStatus {
				t.Errorf("status %d, want %d", ve.Status, tt.wantStatus)
			}
			if !strings.HasPrefix(err.Error(), "list numbers: ") {
				t.Errorf("err = %q, want it to start with \"list numbers: \"", err)
			}
			if tt.wantRequests != 0 && numbersStats(s).Requests != tt.wantRequests {
				t.Errorf("requests = %d, want %d", numbersStats(s).Requests, tt.wantRequests)
			}
			if tt.wantDetail != "" && !strings.Contains(err.Error(), tt.wantDetail) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantDetail)
			}
			for _, secret := range []string{s.APIKey, canary[:12]} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %q", err, secret)
				}
			}
		})
	}
}

func TestWalkNumbersObserver(t *testing.T) {
	s, _ := numbersServer(t, 150)
	s.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointNumbers, Page: 2, Times: 1, Status: 503})
	var seen []string
	c := newClient(t, s, vocode.Options{PageSize: 100, Concurrency: 1, Observer: func(endpoint, code string, _ time.Duration) {
		seen = append(seen, endpoint+" "+code)
	}})
	if _, err := c.WalkNumbers(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "numbers_list 200,numbers_list 503,numbers_list 200"
	if got := strings.Join(seen, ","); got != want {
		t.Errorf("observed %s\nwant     %s", got, want)
	}
}

// A canary in the credentials of the connections that numbers embed
// reaches nothing the client returns: not the numbers, and not the error
// of a page that fails to decode beside them.
func TestWalkNumbersCanary(t *testing.T) {
	const canary = "numbersCanary7Qx2Lm9Pz4Wv"
	conns := vocodetest.WithCredentials(vocodetest.Dataset(3, 1), canary)
	nums := vocodetest.Numbers(60, conns)
	s := newServer(t, conns, vocodetest.WithNumbers(nums))
	c := newClient(t, s, vocode.Options{PageSize: 25})
	res, err := c.WalkNumbers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	embedded := 0
	for _, n := range nums {
		if n.Connection != nil {
			embedded++
		}
	}
	if embedded == 0 {
		t.Fatal("the data set embeds no connection: the canary is never served")
	}
	if got := fmt.Sprintf("%+v %#v", res, res.Numbers); strings.Contains(got, canary) {
		t.Errorf("the canary reached the result: %s", got)
	}

	// The same items, with one field that fails the page.
	broken := append([]vocodetest.Number(nil), nums...)
	broken[1].Raw = json.RawMessage(`{"id":"x","number":"+1","inbound_agent":5,"telephony_account_connection":` +
		`{"id":"c","credentials":{"twilio_auth_token":"` + canary + `"}}}`)
	s.SetNumbers(broken)
	_, err = c.WalkNumbers(context.Background())
	if vocode.ReasonOf(err) != vocode.ReasonDecode || strings.Contains(err.Error(), canary) {
		t.Errorf("err = %v, want a decode error without the canary", err)
	}
}
