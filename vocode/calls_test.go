package vocode_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// callsNow is the time the calls tests' windows end at.
var callsNow = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

// inWindow tells, straight from a call of the data set, whether Calls
// should count it (the calls that started at or after since; without a
// readable start, the calls not finished and the finished ones that ended
// at or after since) or count it as undated (finished, neither time
// readable). The fake serves StartJSON and EndJSON in these tests only as
// times that cannot be read, and a finished call with a Start and no End
// as ending 90 s after it.
func inWindow(c vocodetest.Call, since time.Time) (in, undated bool) {
	finished := c.Status == "error" || c.Status == "ended"
	end := c.End
	if end.IsZero() && !c.Start.IsZero() && finished {
		end = c.Start.Add(90 * time.Second)
	}
	if c.EndJSON != nil {
		end = time.Time{}
	}
	switch {
	case !c.Start.IsZero() && c.StartJSON == nil:
		return !c.Start.Before(since), false
	case !finished:
		return true, false
	case end.IsZero():
		return false, true
	}
	return !end.Before(since), false
}

// wantUndated counts the calls of the data set Calls should count as
// undated.
func wantUndated(calls []vocodetest.Call, since time.Time) int {
	n := 0
	for _, c := range calls {
		if _, undated := inWindow(c, since); undated {
			n++
		}
	}
	return n
}

// wantStats counts calls as Calls should, straight from the data set (see
// inWindow).
func wantStats(calls []vocodetest.Call, since time.Time) (byStatus, byOutcome, inProgress map[string]int, n int) {
	byStatus, byOutcome, inProgress = zeros(vocode.CallStatuses), zeros(vocode.CallOutcomes), zeros(vocode.CallStages)
	for _, c := range calls {
		if in, _ := inWindow(c, since); !in {
			continue
		}
		n++
		status := c.Status
		if status == "" {
			status = "not_started"
		}
		if !slices.Contains(vocode.CallStatuses, status) {
			status = vocode.CallOther
		}
		byStatus[status]++
		if c.Outcome != "" {
			byOutcome[c.Outcome]++
		}
		if status == "in_progress" {
			inProgress[c.Stage]++
		}
	}
	return byStatus, byOutcome, inProgress, n
}

func zeros(keys []string) map[string]int {
	m := map[string]int{}
	for _, k := range keys {
		m[k] = 0
	}
	return m
}

// queryLog records the query of every request a fake serves.
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *queryLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.queries = append(l.queries, r.URL.RawQuery)
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// callsServer starts a fake serving calls whose requests are logged.
func callsServer(t *testing.T, calls []vocodetest.Call, opts ...vocodetest.Option) (*vocodetest.Server, *queryLog) {
	t.Helper()
	s := vocodetest.NewUnstartedServer(nil, append([]vocodetest.Option{vocodetest.WithCalls(calls)}, opts...)...)
	log := &queryLog{}
	s.HTTPTest().Config.Handler = log.wrap(s.API)
	s.Start()
	t.Cleanup(s.Close)
	return s, log
}

// syncBuffer is a bytes.Buffer for a logger that may write from several
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sortedLikeAPI orders calls as the API's sort does: not started first,
// then newest first.
func sortedLikeAPI(calls []vocodetest.Call) []vocodetest.Call {
	s := slices.Clone(calls)
	slices.SortStableFunc(s, func(x, y vocodetest.Call) int {
		if x.Start.IsZero() || y.Start.IsZero() {
			return boolInt(y.Start.IsZero()) - boolInt(x.Start.IsZero())
		}
		return y.Start.Compare(x.Start)
	})
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func reversed(calls []vocodetest.Call) []vocodetest.Call {
	r := slices.Clone(calls)
	slices.Reverse(r)
	return r
}

// The window and the stop rule, in each time format and sort mode: the
// counts are those of the data set, the walk stops where it should, and an
// API that ignores or rejects the sort is found out on the first walk,
// which is already exact, and not asked for the sort again.
func TestCalls(t *testing.T) {
	// 200 calls over 4 hours, one every 72 s, newest first; 13 of them
	// (and 2 not started) in the 15-minute window. Pages of 10.
	calls := vocodetest.Calls(200, callsNow, 4*time.Hour, 64, nil)
	tests := []struct {
		name      string
		calls     []vocodetest.Call
		opts      []vocodetest.Option
		window    time.Duration
		maxPages  int
		wantPages int // on the first walk
		truncated bool
		// A truncated walk counts the calls of the window among the first
		// read of the calls, in the order served.
		served   []vocodetest.Call
		read     int
		sorted   bool // the client still trusts the sort after the walk
		warnings int
	}{
		// Sorted, nulls first: the 20 not started open the walk; page 4
		// reaches calls before the window.
		{name: "sorted, seconds", calls: calls, window: 15 * time.Minute, maxPages: 10, wantPages: 4, sorted: true},
		{name: "sorted, milliseconds", calls: calls, opts: []vocodetest.Option{vocodetest.WithCallTimeFormat(vocodetest.TimeMilliseconds)},
			window: 15 * time.Minute, maxPages: 10, wantPages: 4, sorted: true},
		{name: "sorted, RFC 3339", calls: calls, opts: []vocodetest.Option{vocodetest.WithCallTimeFormat(vocodetest.TimeRFC3339)},
			window: 15 * time.Minute, maxPages: 10, wantPages: 4, sorted: true},
		{name: "sorted, whole list in the window", calls: calls, window: 5 * time.Hour, maxPages: 20, wantPages: 20, sorted: true},
		// 2 pages of calls not started, then 5 of started ones.
		{name: "sorted, truncated", calls: calls, window: 2 * time.Hour, maxPages: 5, wantPages: 7, truncated: true, sorted: true,
			served: sortedLikeAPI(calls), read: 70},
		// Sort ignored, oldest first: page 1 shows it; every page is read.
		{name: "sort ignored", calls: reversed(calls), opts: []vocodetest.Option{vocodetest.WithCallSort(vocodetest.SortIgnored)},
			window: 15 * time.Minute, maxPages: 20, wantPages: 20, warnings: 1},
		{name: "sort ignored, truncated", calls: reversed(calls), opts: []vocodetest.Option{vocodetest.WithCallSort(vocodetest.SortIgnored)},
			window: 15 * time.Minute, maxPages: 19, wantPages: 19, truncated: true, warnings: 1, served: reversed(calls), read: 190},
		// Rejected: one 422, then 20 pages without the sort.
		{name: "sort rejected", calls: calls, opts: []vocodetest.Option{vocodetest.WithCallSort(vocodetest.SortRejected)},
			window: 15 * time.Minute, maxPages: 20, wantPages: 21, warnings: 1},
		{name: "sort rejected, truncated", calls: calls, opts: []vocodetest.Option{vocodetest.WithCallSort(vocodetest.SortRejected)},
			window: 15 * time.Minute, maxPages: 3, wantPages: 4, truncated: true, warnings: 1, served: calls, read: 30},
		// Ignored, but the list is held in the order the sort gives:
		// nothing to see, and nothing lost either.
		{name: "sort ignored, order happens to be right", calls: sortedLikeAPI(calls),
			opts: []vocodetest.Option{vocodetest.WithCallSort(vocodetest.SortIgnored)}, window: 15 * time.Minute, maxPages: 20,
			wantPages: 4, sorted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, queries := callsServer(t, tt.calls, tt.opts...)
			logs := &syncBuffer{}
			c := newClient(t, s, vocode.Options{PageSize: 10, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			q := vocode.CallsQuery{Window: tt.window, MaxPages: tt.maxPages, Now: func() time.Time { return callsNow }}
			counted := tt.calls
			if tt.truncated {
				counted = tt.served[:tt.read]
			}
			wantByStatus, wantByOutcome, wantInProgress, wantN := wantStats(counted, callsNow.Add(-tt.window))
			for walk := 1; walk <= 2; walk++ {
				st, err := c.Calls(context.Background(), q)
				if err != nil {
					t.Fatalf("walk %d: %v", walk, err)
				}
				if st.Calls != wantN || !maps.Equal(st.ByStatus, wantByStatus) || !maps.Equal(st.ByOutcome, wantByOutcome) ||
					!maps.Equal(st.InProgress, wantInProgress) {
					t.Errorf("walk %d: %d calls, by status %v, by outcome %v, in progress %v\nwant %d, %v, %v, %v", walk,
						st.Calls, st.ByStatus, st.ByOutcome, st.InProgress, wantN, wantByStatus, wantByOutcome, wantInProgress)
				}
				if st.Truncated != tt.truncated {
					t.Errorf("walk %d: truncated %v, want %v", walk, st.Truncated, tt.truncated)
				}
				if want := callsNow.Add(-72 * time.Second); !tt.truncated && !st.Newest.Equal(want) {
					t.Errorf("walk %d: newest %v, want %v", walk, st.Newest, want)
				}
				sent := queries.take()
				withSort := 0
				for _, q := range sent {
					if strings.Contains(q, "sort_column=start_time") && strings.Contains(q, "sort_desc=true") {
						withSort++
					}
				}
				switch {
				case walk == 1 && st.Pages != tt.wantPages:
					t.Errorf("walk 1: %d pages, want %d", st.Pages, tt.wantPages)
				case len(sent) != st.Pages:
					t.Errorf("walk %d: %d requests, the stats say %d pages", walk, len(sent), st.Pages)
				case walk == 2 && !tt.sorted && withSort != 0:
					t.Errorf("walk 2 asked for the sort again %d times, after it failed: %q", withSort, sent)
				case walk == 2 && tt.sorted && withSort != len(sent):
					t.Errorf("walk 2: %d of %d requests asked for the sort", withSort, len(sent))
				}
				if st.Sorted != tt.sorted {
					t.Errorf("walk %d: sorted %v, want %v", walk, st.Sorted, tt.sorted)
				}
			}
			if got := strings.Count(logs.String(), "level=WARN"); got != tt.warnings {
				t.Errorf("%d warnings, want %d:\n%s", got, tt.warnings, logs)
			}
		})
	}
}

// Calls placed while a walk runs push the others to later pages: every
// call of the window is counted once, none twice, none missed.
func TestCallsArrivingMidWalk(t *testing.T) {
	now := time.Now()
	calls := sortedLikeAPI(vocodetest.Calls(200, now, 4*time.Hour, 64, nil))
	tests := []struct {
		sort vocodetest.SortMode
		// The arrivals the walk sees: sorted, they land after the 20
		// calls not started, so page 3 shows the 9 that arrived before
		// pages 1 to 3; held unsorted, they land at the head: the 3 that
		// arrived before page 1 are on a page not yet read, and as page
		// 1 then begins with a started call, the walk asks for one page
		// oldest first, which this API serves as page 1 again, now 10
		// arrivals not seen before.
		arrived int
	}{
		{vocodetest.SortHonoured, 9},
		{vocodetest.SortIgnored, 3 + 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("sort mode ", tt.sort), func(t *testing.T) {
			// Three calls arrive before each page: the list shifts by
			// three under the walk, page after page.
			s, _ := callsServer(t, calls, vocodetest.WithCallArrivals(3), vocodetest.WithCallSort(tt.sort))
			c := newClient(t, s, vocode.Options{PageSize: 10})
			st, err := c.Calls(context.Background(), vocode.CallsQuery{Window: time.Hour, MaxPages: 40, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			byStatus, _, inProgress, n := wantStats(calls, now.Add(-time.Hour))
			byStatus["in_progress"] += tt.arrived
			inProgress["created"] += tt.arrived
			if st.Calls != n+tt.arrived || !maps.Equal(st.ByStatus, byStatus) || !maps.Equal(st.InProgress, inProgress) {
				t.Errorf("%d calls, by status %v, in progress %v\nwant %d, %v, %v", st.Calls, st.ByStatus, st.InProgress,
					n+tt.arrived, byStatus, inProgress)
			}
			if !st.Sorted {
				t.Error("arrivals made the walk think the sort was ignored")
			}
		})
	}
}

// The calls list learns its own page size from a 422 naming size, and
// keeps it; the other lists keep theirs.
func TestCallsPageSize(t *testing.T) {
	calls := vocodetest.Calls(100, callsNow, time.Hour, 0, nil)
	s, queries := callsServer(t, calls, vocodetest.WithMaxPageSizeFor(vocodetest.EndpointCalls, 25))
	c := newClient(t, s, vocode.Options{PageSize: 100})
	q := vocode.CallsQuery{Window: 2 * time.Hour, Now: func() time.Time { return callsNow }}
	st, err := c.Calls(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 100 || st.PageSize != 25 || st.Pages != 2+4 {
		t.Errorf("%d calls in %d pages of %d, want 100 in 2 refused and 4 pages of 25", st.Calls, st.Pages, st.PageSize)
	}
	if c.CallsPageSize() != 25 || c.PageSize() != 100 || c.NumbersPageSize() != 100 {
		t.Errorf("page sizes: calls %d, connections %d, numbers %d; want 25, 100, 100", c.CallsPageSize(), c.PageSize(), c.NumbersPageSize())
	}
	queries.take()
	if st, err = c.Calls(context.Background(), q); err != nil || st.Pages != 4 {
		t.Errorf("second walk: %d pages, %v; want 4 pages of 25 at once", st.Pages, err)
	}
}

// Faults fail the walk with the endpoint's name and the right reason, and
// the retries are those of the other endpoints.
func TestCallsFaults(t *testing.T) {
	calls := vocodetest.Calls(100, callsNow, time.Hour, 0, nil)
	tests := []struct {
		name   string
		fault  vocodetest.Fault
		reason vocode.Reason // "" for a walk that succeeds
		page   int
	}{
		{"500 on page 2", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Page: 2, Status: 500}, vocode.ReasonServerError, 2},
		{"one 503, retried", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Page: 2, Times: 1, Status: 503}, "", 0},
		{"429 with Retry-After, retried", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Times: 1, Status: 429,
			Header: http.Header{"Retry-After": {"0"}}}, "", 0},
		{"401", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Status: 401}, vocode.ReasonAuth, 1},
		{"another 422", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Status: 422,
			Body: `{"detail":[{"loc":["query","page"],"msg":"bad","type":"x"}]}`}, vocode.ReasonClientError, 1},
		{"HTML", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Page: 3, Handler: vocodetest.Raw(200, "text/html", "<html>")},
			vocode.ReasonDecode, 3},
		{"reset mid-body", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Handler: vocodetest.ResetMidBody()}, vocode.ReasonTransport, 1},
		{"huge", vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Handler: vocodetest.Huge(2 << 20)}, vocode.ReasonTooLarge, 1},
		{"fault on every endpoint", vocodetest.Fault{Endpoint: vocodetest.AnyEndpoint, Status: 500}, vocode.ReasonServerError, 1},
		{"fault on the connection list only", vocodetest.Fault{Status: 500}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := callsServer(t, calls)
			s.AddFault(tt.fault)
			c := newClient(t, s, vocode.Options{PageSize: 10, MaxBodyBytes: 1 << 20})
			st, err := c.Calls(context.Background(), vocode.CallsQuery{Window: 2 * time.Hour, MaxPages: 20,
				Now: func() time.Time { return callsNow }})
			if tt.reason == "" {
				if err != nil || st.Calls != 100 {
					t.Fatalf("%v, %d calls; want all 100", err, st.Calls)
				}
				return
			}
			var e *vocode.Error
			if !errors.As(err, &e) || e.Reason != tt.reason || e.Endpoint != vocode.EndpointCalls || e.Page != tt.page {
				t.Fatalf("error %v, want %s on page %d of %s", err, tt.reason, tt.page, vocode.EndpointCalls)
			}
			if !strings.HasPrefix(err.Error(), "list calls: ") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}

// Transcripts, callers' numbers, error messages and embedded credentials
// never reach the stats, an error or a log line, whatever the walk meets;
// nor does a status, stage or stage outcome outside the API's lists, which
// is counted as other: the stats' keys are the package's own strings.
func TestCallsCanaries(t *testing.T) {
	const canary = "CANARYq7Zr2Xw9"
	calls := vocodetest.WithCallSecrets(vocodetest.Calls(60, callsNow, time.Hour, 256, vocodetest.Dataset(3, 0)), canary)
	for i := range calls {
		switch i % 10 {
		case 1: // in progress
			calls[i].Stage = "queued-" + canary
		case 4:
			calls[i].Status = "ringing-" + canary
		case 5:
			calls[i].Outcome = "voicemail-" + canary
		}
	}
	tests := []struct {
		name  string
		opts  []vocodetest.Option
		fault *vocodetest.Fault
	}{
		{name: "sorted"},
		{name: "sort ignored", opts: []vocodetest.Option{vocodetest.WithCallSort(vocodetest.SortIgnored)}},
		{name: "sort rejected", opts: []vocodetest.Option{vocodetest.WithCallSort(vocodetest.SortRejected)}},
		{name: "page 2 broken mid-item", fault: &vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Page: 2,
			Handler: vocodetest.Raw(200, "application/json", `{"items":[{"id":"x","transcript":"`+canary+`","status":`+canary+`}]}`)}},
		{name: "id where a canary was", fault: &vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Page: 2,
			Handler: vocodetest.Raw(200, "application/json", `{"items":[{"id":7`+canary+`}],"has_more":false}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := callsServer(t, calls, tt.opts...)
			if tt.fault != nil {
				s.AddFault(*tt.fault)
			}
			logs := &syncBuffer{}
			c := newClient(t, s, vocode.Options{PageSize: 10,
				Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			st, err := c.Calls(context.Background(), vocode.CallsQuery{Window: 30 * time.Minute, Now: func() time.Time { return callsNow }})
			seen := fmt.Sprintf("%+v %v %s", st, err, logs)
			if strings.Contains(seen, canary) {
				t.Errorf("the canary got out: %s", seen)
			}
			if tt.fault == nil && (err != nil || st.Calls == 0 || st.ByStatus[vocode.CallOther] == 0 ||
				st.ByOutcome[vocode.CallOther] == 0 || st.InProgress[vocode.CallOther] == 0) {
				t.Errorf("%v, %+v: the walk did not read the calls, or not those with a canary", err, st)
			}
		})
	}
}

// Every request of a calls walk is told to the observer under calls_list.
func TestCallsObserved(t *testing.T) {
	s, _ := callsServer(t, vocodetest.Calls(30, callsNow, time.Hour, 0, nil), vocodetest.WithCallSort(vocodetest.SortRejected))
	var mu sync.Mutex
	seen := map[string]int{}
	c := newClient(t, s, vocode.Options{PageSize: 10, Observer: func(endpoint, code string, _ time.Duration) {
		mu.Lock()
		seen[endpoint+" "+code]++
		mu.Unlock()
	}})
	if _, err := c.Calls(context.Background(), vocode.CallsQuery{Window: 2 * time.Hour, Now: func() time.Time { return callsNow }}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := map[string]int{"calls_list 422": 1, "calls_list 200": 3}; !maps.Equal(seen, want) {
		t.Errorf("observed %v, want %v", seen, want)
	}
}
