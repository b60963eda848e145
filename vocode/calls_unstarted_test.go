package vocode_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/bits"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// nullOrders are the places an API may sort calls without a start time.
var nullOrders = []struct {
	name  string
	nulls vocodetest.NullsOrder
	want  vocode.NullsOrder // where the walk finds them
}{
	{"nulls first newest first (PostgreSQL)", vocodetest.NullsPostgres, vocode.NullsFirst},
	{"nulls last newest first (MySQL)", vocodetest.NullsMySQL, vocode.NullsLast},
	{"nulls first both ways", vocodetest.NullsAlwaysFirst, vocode.NullsFirst},
}

// windowCalls returns n calls started within the last 10 minutes before
// now, ended, in error and in progress in turn, and old calls started
// hours before, ids prefixed w and o.
func windowCalls(now time.Time, n, old int) []vocodetest.Call {
	var calls []vocodetest.Call
	for i := range n {
		c := vocodetest.Call{ID: vocodetest.ID("w", i), Start: now.Add(-time.Duration(i+1) * 10 * time.Minute / time.Duration(n+1))}
		switch i % 3 {
		case 0:
			c.Status, c.Stage, c.Outcome = "ended", "picked_up", "human_disconnected"
		case 1:
			c.Status, c.Stage, c.Outcome = "error", "created", "call_did_not_connect"
		default:
			c.Status, c.Stage = "in_progress", "picked_up"
		}
		calls = append(calls, c)
	}
	for i := range old {
		calls = append(calls, vocodetest.Call{ID: vocodetest.ID("o", i), Status: "error", Stage: "created",
			Outcome: "call_did_not_connect", Start: now.Add(-time.Hour - time.Duration(i)*time.Minute)})
	}
	return calls
}

func repeatCall(prefix string, n int, c vocodetest.Call) []vocodetest.Call {
	calls := make([]vocodetest.Call, n)
	for i := range calls {
		calls[i] = c
		calls[i].ID = vocodetest.ID(prefix, i)
	}
	return calls
}

// checkStats compares what a walk counted with what the data set says.
func checkStats(t *testing.T, st *vocode.CallStats, calls []vocodetest.Call, since time.Time) {
	t.Helper()
	byStatus, byOutcome, inProgress, n := wantStats(calls, since)
	if st.Calls != n || !maps.Equal(st.ByStatus, byStatus) || !maps.Equal(st.ByOutcome, byOutcome) || !maps.Equal(st.InProgress, inProgress) {
		t.Errorf("%d calls, by status %v, by outcome %v, in progress %v\nwant %d, %v, %v, %v",
			st.Calls, st.ByStatus, st.ByOutcome, st.InProgress, n, byStatus, byOutcome, inProgress)
	}
	if want := wantUndated(calls, since); st.Undated != want {
		t.Errorf("%d undated, want %d", st.Undated, want)
	}
}

func countQueries(queries []string, part string) int {
	n := 0
	for _, q := range queries {
		if strings.Contains(q, part) {
			n++
		}
	}
	return n
}

// A call without a readable start is counted by its status and end, in
// every order nulls may sort: not finished, it is the state now; finished,
// it is placed by end_time; with neither, it is undated. 30 calls that
// failed before they started, long ago, are not counted on every walk.
func TestCallsWithoutStart(t *testing.T) {
	since := callsNow.Add(-15 * time.Minute)
	unreadable := json.RawMessage(`"0001-01-01T00:00:00Z"`)
	var calls []vocodetest.Call
	calls = append(calls, windowCalls(callsNow, 12, 40)...)
	// No start at all (null).
	calls = append(calls, repeatCall("a", 30, vocodetest.Call{Status: "error", Outcome: "call_did_not_connect", End: callsNow.Add(-3 * time.Hour)})...)
	calls = append(calls, repeatCall("b", 5, vocodetest.Call{Status: "error", Outcome: "call_did_not_connect", End: callsNow.Add(-time.Minute)})...)
	calls = append(calls, repeatCall("c", 4, vocodetest.Call{Status: "ended"})...)
	calls = append(calls, repeatCall("d", 3, vocodetest.Call{Status: "ended", EndJSON: json.RawMessage(`"yesterday"`)})...)
	calls = append(calls, repeatCall("e", 7, vocodetest.Call{Status: "not_started"})...)
	calls = append(calls, repeatCall("f", 2, vocodetest.Call{Status: "in_progress", Stage: "created"})...)
	calls = append(calls, repeatCall("g", 2, vocodetest.Call{Status: "on_hold"})...)
	// A start that cannot be read, sorted by the API among the window's.
	calls = append(calls, repeatCall("h", 3, vocodetest.Call{Status: "in_progress", Stage: "picked_up", Start: callsNow.Add(-5 * time.Minute), StartJSON: unreadable})...)
	calls = append(calls, repeatCall("i", 6, vocodetest.Call{Status: "error", Outcome: "call_did_not_connect", Start: callsNow.Add(-6 * time.Minute),
		StartJSON: unreadable, End: callsNow.Add(-2 * time.Hour)})...)
	calls = append(calls, repeatCall("j", 2, vocodetest.Call{Status: "ended", Start: callsNow.Add(-7 * time.Minute),
		StartJSON: json.RawMessage(`-1`), End: callsNow.Add(-6 * time.Minute)})...)
	calls = append(calls, repeatCall("k", 1, vocodetest.Call{Status: "ended", Start: callsNow.Add(-8 * time.Minute),
		StartJSON: json.RawMessage(`"1970-01-01T00:00:00Z"`), EndJSON: json.RawMessage(`null`)})...)

	for _, order := range nullOrders {
		t.Run(order.name, func(t *testing.T) {
			s, queries := callsServer(t, calls, vocodetest.WithCallNulls(order.nulls))
			c := newClient(t, s, vocode.Options{PageSize: 10})
			for walk := 1; walk <= 2; walk++ {
				st, err := c.Calls(context.Background(), vocode.CallsQuery{Window: 15 * time.Minute, Now: func() time.Time { return callsNow }})
				if err != nil {
					t.Fatal(err)
				}
				checkStats(t, st, calls, since)
				if st.Truncated || st.UnstartedTruncated || !st.Sorted || st.Nulls != order.want {
					t.Errorf("walk %d: truncated %v, unstarted truncated %v, sorted %v, nulls %v; want false, false, true, %v",
						walk, st.Truncated, st.UnstartedTruncated, st.Sorted, st.Nulls, order.want)
				}
				if sent := queries.take(); len(sent) != st.Pages {
					t.Errorf("walk %d: %d requests, the stats say %d", walk, len(sent), st.Pages)
				}
			}
		})
	}
	// The numbers the issue names: 30 calls failed before they started,
	// long ago, are 0 in error and call_did_not_connect.
	st, err := newClient(t, func() *vocodetest.Server { s, _ := callsServer(t, calls[52:82]); return s }(), vocode.Options{}).
		Calls(context.Background(), vocode.CallsQuery{Now: func() time.Time { return callsNow }})
	if err != nil || st.ByStatus["error"] != 0 || st.ByOutcome["call_did_not_connect"] != 0 || st.Calls != 0 {
		t.Errorf("30 calls failed long ago: %v, %d calls, error %d, call_did_not_connect %d; want none counted",
			err, st.Calls, st.ByStatus["error"], st.ByOutcome["call_did_not_connect"])
	}
}

// A backlog of calls not started never hides the window: 1,100 (or
// 3,000) of them and 20 calls in the window, at the default page size and
// bounds, count the window exactly; the calls not started are counted as
// far as read, and vocode_calls_unstarted_truncated says when some were
// not, apart from vocode_calls_truncated.
func TestCallsUnstartedBacklog(t *testing.T) {
	since := callsNow.Add(-15 * time.Minute)
	window := windowCalls(callsNow, 20, 200)
	for _, tt := range []struct {
		order   int
		backlog int
	}{{0, 1100}, {1, 1100}, {2, 1100}, {0, 3000}, {1, 3000}} {
		order := nullOrders[tt.order]
		backlog := tt.backlog
		calls := append(repeatCall("n", backlog, vocodetest.Call{Status: "not_started"}), window...)
		t.Run(fmt.Sprint(order.name, ", ", backlog), func(t *testing.T) {
			s, queries := callsServer(t, calls, vocodetest.WithCallNulls(order.nulls))
			c := newClient(t, s, vocode.Options{})
			st, err := c.Calls(context.Background(), vocode.CallsQuery{Now: func() time.Time { return callsNow }})
			if err != nil {
				t.Fatal(err)
			}
			// The window's started calls, exactly.
			want, _, wantInProgress, _ := wantStats(window, since)
			for _, status := range []string{"in_progress", "error", "ended"} {
				if st.ByStatus[status] != want[status] {
					t.Errorf("%s: %d, want %d", status, st.ByStatus[status], want[status])
				}
			}
			if !maps.Equal(st.InProgress, wantInProgress) {
				t.Errorf("in progress %v, want %v", st.InProgress, wantInProgress)
			}
			// 10 pages of 100 read at least; never more than there are.
			n := st.ByStatus["not_started"]
			if n < 1000 || n > backlog {
				t.Errorf("%d not started, want 1000 to %d", n, backlog)
			}
			if st.Truncated || st.UnstartedTruncated != (n < backlog) {
				t.Errorf("truncated %v, unstarted truncated %v with %d of %d not started counted", st.Truncated, st.UnstartedTruncated, n, backlog)
			}
			sent := queries.take()
			asc := countQueries(sent, "sort_desc=false")
			t.Logf("%d requests, %d oldest first", len(sent), asc)
			switch {
			case order.want == vocode.NullsFirst && backlog == 1100:
				// 10 pages of calls not started, then the search for the
				// first page past them (page 12): pages 11, 13, 12.
				if len(sent) != 13 || asc != 0 || n != 1100 {
					t.Errorf("%d requests, %d oldest first, %d not started; want 13, 0, 1100", len(sent), asc, n)
				}
			case order.want == vocode.NullsFirst:
				// Page 31 is the first past them: 21 pages past the
				// bound, found in at most 2⌈log2(21)⌉+1 requests.
				if limit := 10 + 2*ceilLog2(21) + 1; len(sent) > limit || asc != 0 {
					t.Errorf("%d requests, %d oldest first; want at most %d, 0", len(sent), asc, limit)
				}
			case order.want == vocode.NullsLast:
				// One page newest first reaches the window's start; 10
				// pages oldest first read the calls not started, and an
				// 11th, not counted, says some were left unread.
				if len(sent) != 12 || asc != 11 {
					t.Errorf("%d requests, %d oldest first; want 12, 11", len(sent), asc)
				}
			}
		})
	}
}

// ceilLog2 is ⌈log2(n)⌉ for n ≥ 1.
func ceilLog2(n int) int { return bits.Len(uint(n - 1)) }

// The search for the end of the block of calls without a start costs at
// most 2⌈log2(d)⌉+1 requests for a block that ends d pages past the bound,
// asks for no page twice, and lands on the first page past the block, so
// that the window is counted exactly whatever the block's size. Counted by
// the fake.
func TestCallsSearchBound(t *testing.T) {
	since := callsNow.Add(-15 * time.Minute)
	window := windowCalls(callsNow, 15, 30)
	const size, bound = 10, 2
	for _, nulls := range []int{15, 20, 21, 29, 30, 31, 45, 99, 170, 640, 2003, 5000} {
		t.Run(fmt.Sprint(nulls, " calls not started"), func(t *testing.T) {
			calls := append(repeatCall("n", nulls, vocodetest.Call{Status: "not_started"}), window...)
			s, _ := callsServer(t, calls)
			c := newClient(t, s, vocode.Options{PageSize: size})
			st, err := c.Calls(context.Background(), vocode.CallsQuery{MaxUnstartedPages: bound, Now: func() time.Time { return callsNow }})
			if err != nil {
				t.Fatal(err)
			}
			want, _, _, _ := wantStats(window, since)
			for _, status := range []string{"in_progress", "error", "ended"} {
				if st.ByStatus[status] != want[status] {
					t.Errorf("%s: %d, want %d", status, st.ByStatus[status], want[status])
				}
			}
			first := nulls/size + 1                 // the first page with a started call
			last := (nulls+len(window)-30)/size + 1 // the page with the first old call, where the walk stops
			pages := s.Stats().Endpoints[vocodetest.EndpointCalls].Pages
			// Every request for a page past the bound, overshoots
			// included, less the pages the walk reads in order after the
			// one the search lands on.
			search, skipped := 0, false
			for p, n := range pages {
				if p > bound {
					search += n
				}
			}
			for p := bound + 1; p < first; p++ {
				skipped = skipped || pages[p] == 0
			}
			search -= last - first
			for p, n := range pages {
				// The search may overshoot by a page the walk asks for
				// again once it gets there; no other page twice.
				if n != 1 && (n != 2 || p <= first) {
					t.Errorf("page %d asked for %d times", p, n)
				}
			}
			if st.UnstartedTruncated != skipped {
				t.Errorf("unstarted truncated %v, but pages of calls not started were skipped: %v", st.UnstartedTruncated, skipped)
			}
			if first <= bound+1 {
				return // no search
			}
			d := first - bound
			limit := 2*ceilLog2(d) + 1
			t.Logf("first page past the block %d: %d requests to find it, bound %d", first, search, limit)
			if search > limit {
				t.Errorf("%d requests to find page %d (asked %d times), d = %d: want at most %d", search, first, pages[first], d, limit)
			}
		})
	}
}

// Nulls first or last, and with none at all: when the newest-first walk
// does not begin with a call without a start, one page oldest first says
// where they are, and no other request is made for them.
func TestCallsNullsOrder(t *testing.T) {
	since := callsNow.Add(-15 * time.Minute)
	window := windowCalls(callsNow, 14, 60)
	withNulls := append(repeatCall("n", 25, vocodetest.Call{Status: "not_started"}), window...)
	for _, order := range nullOrders {
		for _, tt := range []struct {
			calls     []vocodetest.Call
			nulls     vocode.NullsOrder
			ascending int // requests oldest first
			pages     int
		}{
			// 3 pages of calls not started, the third with 5 started
			// calls; newest first, a page past the window's start.
			{withNulls, order.want, map[vocode.NullsOrder]int{vocode.NullsFirst: 0, vocode.NullsLast: 3}[order.want],
				map[vocode.NullsOrder]int{vocode.NullsFirst: 4, vocode.NullsLast: 2 + 3}[order.want]},
			{window, vocode.NullsNone, 1, 2 + 1},
		} {
			t.Run(fmt.Sprintf("%s, %d calls", order.name, len(tt.calls)), func(t *testing.T) {
				s, queries := callsServer(t, tt.calls, vocodetest.WithCallNulls(order.nulls))
				c := newClient(t, s, vocode.Options{PageSize: 10})
				st, err := c.Calls(context.Background(), vocode.CallsQuery{Now: func() time.Time { return callsNow }})
				if err != nil {
					t.Fatal(err)
				}
				checkStats(t, st, tt.calls, since)
				sent := queries.take()
				if asc := countQueries(sent, "sort_desc=false"); st.Nulls != tt.nulls || asc != tt.ascending || len(sent) != tt.pages {
					t.Errorf("nulls %v, %d of %d requests oldest first; want %v, %d of %d", st.Nulls, asc, len(sent), tt.nulls, tt.ascending, tt.pages)
				}
			})
		}
	}
}

// Nothing is ever counted twice: calls arrive between every two pages,
// some not started (the block of calls without a start shifts) and some
// started now, through the bounded read, the search and the page oldest
// first. Calls that failed before they started, recently, are counted
// exactly where no page is skipped; where the search skips pages, never
// more than there are; and the window's started calls are counted
// exactly.
func TestCallsNeverCountedTwice(t *testing.T) {
	since := callsNow.Add(-15 * time.Minute)
	window := windowCalls(callsNow, 25, 50)
	var block []vocodetest.Call
	for i := range 300 {
		c := vocodetest.Call{ID: vocodetest.ID("n", i), Status: "not_started"}
		if i%3 == 0 {
			c = vocodetest.Call{ID: vocodetest.ID("f", i), Status: "error", Outcome: "call_did_not_connect", End: callsNow.Add(-time.Minute)}
		}
		block = append(block, c)
	}
	failed := 100
	calls := append(block, window...)
	wantWindow, _, _, _ := wantStats(window, since)
	for _, order := range nullOrders {
		for _, bound := range []int{100, 3} {
			t.Run(fmt.Sprintf("%s, %d pages of calls not started at most", order.name, bound), func(t *testing.T) {
				s, _ := callsServer(t, calls, vocodetest.WithCallNulls(order.nulls),
					vocodetest.WithUnstartedArrivals(2), vocodetest.WithCallArrivals(1))
				c := newClient(t, s, vocode.Options{PageSize: 10})
				st, err := c.Calls(context.Background(), vocode.CallsQuery{MaxUnstartedPages: bound, Now: func() time.Time { return callsNow }})
				if err != nil {
					t.Fatal(err)
				}
				requests := s.Stats().Endpoints[vocodetest.EndpointCalls].Requests
				arrived := 3 * requests
				gotFailed := st.ByStatus["error"] - wantWindow["error"]
				switch {
				case st.ByStatus["ended"] != wantWindow["ended"]:
					t.Errorf("ended %d, want %d", st.ByStatus["ended"], wantWindow["ended"])
				case bound == 100 && gotFailed != failed:
					t.Errorf("%d calls failed before they started counted, want %d", gotFailed, failed)
				case gotFailed > failed || gotFailed < 0:
					t.Errorf("%d calls failed before they started counted, there are %d", gotFailed, failed)
				case st.ByStatus["not_started"] > 200+2*requests:
					t.Errorf("%d not started, there are %d", st.ByStatus["not_started"], 200+2*requests)
				case st.ByStatus["in_progress"] > wantWindow["in_progress"]+requests:
					t.Errorf("%d in progress, there are %d", st.ByStatus["in_progress"], wantWindow["in_progress"]+requests)
				case bound == 100 && st.ByStatus["not_started"] < 200:
					t.Errorf("%d not started, at least the 200 there were before the walk are on pages it read", st.ByStatus["not_started"])
				}
				t.Logf("%d requests, %d arrived; counted %v, unstarted truncated %v", requests, arrived, st.ByStatus, st.UnstartedTruncated)
			})
		}
	}
}

// An API that ignores page serves page 1 again and again: the walk fails
// as pagination, not truncated, once two pages in a row brought nothing
// new. One page of nothing new, as a page's worth of arrivals causes, is
// no failure.
func TestCallsNothingNew(t *testing.T) {
	t.Run("page ignored", func(t *testing.T) {
		var items []string
		for i := range 10 {
			items = append(items, fmt.Sprintf(`{"id":"c%d","status":"ended","start_time":%d}`, i, callsNow.Add(-time.Duration(i)*time.Second).Unix()))
		}
		page1 := `{"items":[` + strings.Join(items, ",") + `],"has_more":true}` // no page number to give it away
		s, _ := callsServer(t, nil)
		s.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Handler: vocodetest.Raw(http.StatusOK, "application/json", page1)})
		c := newClient(t, s, vocode.Options{PageSize: 10})
		st, err := c.Calls(context.Background(), vocode.CallsQuery{MaxPages: 50, Now: func() time.Time { return callsNow }})
		var e *vocode.Error
		if !errors.As(err, &e) || e.Reason != vocode.ReasonPagination || e.Page != 3 || st.Truncated {
			t.Fatalf("%v, truncated %v; want a pagination error on page 3", err, st.Truncated)
		}
		if n := s.Stats().Endpoints[vocodetest.EndpointCalls].Requests; n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
	t.Run("a page's worth of arrivals", func(t *testing.T) {
		window := windowCalls(callsNow, 30, 30)
		s, _ := callsServer(t, window)
		arrived := false
		s.OnServe(vocodetest.EndpointCalls, func(page int) {
			if page == 2 && !arrived {
				arrived = true
				s.ArriveCalls(repeatCall("x", 10, vocodetest.Call{Status: "in_progress", Stage: "created", Start: callsNow.Add(-time.Second)})...)
			}
		})
		c := newClient(t, s, vocode.Options{PageSize: 10})
		st, err := c.Calls(context.Background(), vocode.CallsQuery{Now: func() time.Time { return callsNow }})
		if err != nil {
			t.Fatal(err)
		}
		// The arrivals came after page 1 was read: missed this once.
		checkStats(t, st, window, callsNow.Add(-15*time.Minute))
	})
}

// A calls page too large for the client's body limit is asked for again
// smaller, from the same offset, on page 1 and on a later page whose
// calls are heavier; the size that worked is kept, and every call of the
// window is counted once.
func TestCallsTooLargePage(t *testing.T) {
	since := callsNow.Add(-time.Hour)
	calls := windowCalls(callsNow, 50, 20)
	for i := range calls {
		calls[i].Transcript = vocodetest.Transcript(200)
		if i >= 30 {
			calls[i].Transcript = vocodetest.Transcript(30 << 10)
		}
	}
	tests := []struct {
		name     string
		pageSize int
		maxBody  int64
		sizes    map[int]int // requests by page size
	}{
		// 30 KiB calls from the 31st: page 3 of 20 is 600 KiB, asked
		// again as page 5 of 10; page 6 reaches the window's start, and
		// one page oldest first looks for calls without a start.
		{"page 3 too large", 20, 400 << 10, map[int]int{20: 3, 10: 3}},
		// All 70 calls are 1.2 MB; pages of 50 hold 20 heavy ones at most.
		{"page 1 too large", 100, 700 << 10, map[int]int{100: 1, 50: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := callsServer(t, calls)
			c := newClient(t, s, vocode.Options{PageSize: tt.pageSize, MaxBodyBytes: tt.maxBody})
			st, err := c.Calls(context.Background(), vocode.CallsQuery{Window: time.Hour, MaxPages: 20, Now: func() time.Time { return callsNow }})
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, st, calls, since)
			got := s.Stats().Endpoints[vocodetest.EndpointCalls].PageSizes
			if !maps.Equal(got, tt.sizes) {
				t.Errorf("requests by page size %v, want %v", got, tt.sizes)
			}
			if want := slicesMin(tt.sizes); c.CallsPageSize() != want || st.PageSize != want {
				t.Errorf("page size %d (walk %d), want %d kept", c.CallsPageSize(), st.PageSize, want)
			}
		})
	}
}

func slicesMin(m map[int]int) int {
	least := math.MaxInt
	for k := range m {
		least = min(least, k)
	}
	return least
}

// Once the API failed the sort, the client walks unsorted and asks for
// the sort again every vocode.CallsSortRetry, by the query's clock: an
// API that rejects it costs one 422 per retry; one that honours it again
// is relied on again at once.
func TestCallsSortRetry(t *testing.T) {
	calls := windowCalls(callsNow, 12, 30)
	s, queries := callsServer(t, calls, vocodetest.WithCallSort(vocodetest.SortRejected))
	logs := &syncBuffer{}
	c := newClient(t, s, vocode.Options{PageSize: 10, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	now := callsNow
	walk := func(after time.Duration) (asked bool, st *vocode.CallStats) {
		t.Helper()
		now = now.Add(after)
		st, err := c.Calls(context.Background(), vocode.CallsQuery{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return countQueries(queries.take(), "sort_column") > 0, st
	}
	steps := []struct {
		after    time.Duration
		honoured bool // the API honours the sort from this step
		asked    bool
		sorted   bool
	}{
		{0, false, true, false},                                        // rejected: learned
		{time.Minute, false, false, false},                             // unsorted
		{vocode.CallsSortRetry - time.Minute - 1, false, false, false}, // a nanosecond short of the retry
		{1, false, true, false},                                        // retried, rejected again
		{vocode.CallsSortRetry / 2, true, false, false},                // unsorted, though the API would sort now
		{vocode.CallsSortRetry / 2, true, true, true},                  // retried: honoured
		{time.Second, true, true, true},                                // relied on from then on
	}
	for i, step := range steps {
		if step.honoured {
			s.SetCallSort(vocodetest.SortHonoured)
		}
		asked, st := walk(step.after)
		if asked != step.asked || st.Sorted != step.sorted {
			t.Errorf("step %d: asked for the sort %v, sorted %v; want %v, %v", i, asked, st.Sorted, step.asked, step.sorted)
		}
		checkStats(t, st, calls, now.Add(-vocode.DefaultCallsWindow))
	}
	if got := strings.Count(logs.String(), "level=WARN"); got != 1 {
		t.Errorf("%d warnings, want 1:\n%s", got, logs)
	}
}

// A call that starts while a walk runs can be missed by that walk, once:
// with nulls last newest first, it leaves the calls without a start (read
// last, oldest first) for the head of the started ones (read first). The
// next walk counts it.
func TestCallsMissedOnce(t *testing.T) {
	window := windowCalls(callsNow, 12, 30)
	unstarted := repeatCall("n", 5, vocodetest.Call{Status: "not_started"})
	calls := append(append([]vocodetest.Call{}, unstarted...), window...)
	started := append([]vocodetest.Call{}, calls...)
	started[0] = vocodetest.Call{ID: unstarted[0].ID, Status: "in_progress", Stage: "created", Start: callsNow.Add(-time.Second)}

	s := vocodetest.NewUnstartedServer(nil, vocodetest.WithCalls(calls), vocodetest.WithCallNulls(vocodetest.NullsMySQL))
	var moved atomic.Bool
	s.HTTPTest().Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sort_desc") == "false" && moved.CompareAndSwap(false, true) {
			s.SetCalls(started) // the walk read the started calls already
		}
		s.ServeHTTP(w, r)
	})
	s.Start()
	t.Cleanup(s.Close)
	c := newClient(t, s, vocode.Options{PageSize: 10})
	q := vocode.CallsQuery{Now: func() time.Time { return callsNow }}
	since := callsNow.Add(-vocode.DefaultCallsWindow)
	missed := append(append([]vocodetest.Call{}, unstarted[1:]...), window...)
	for _, want := range [][]vocodetest.Call{missed, started} {
		st, err := c.Calls(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if !moved.Load() {
			t.Fatal("the walk asked for no page oldest first")
		}
		checkStats(t, st, want, since)
	}
}

// The search's probes may land past the end of the list, where an API may
// answer an error: as the other walks do, such an answer fails the walk
// only when no page before it ends the list. With a total or without, for
// blocks that end near the list's end and blocks that are the whole list;
// but a failing first page past the block still fails the walk.
func TestCallsSearchPastEnd(t *testing.T) {
	since := callsNow.Add(-15 * time.Minute)
	const size, bound = 10, 2
	for total, name := range map[vocodetest.TotalMode]string{vocodetest.TotalNone: "no total", vocodetest.TotalExact: "exact total"} {
		for _, tt := range []struct {
			nulls, window int
			failFirst     bool // the first page past the block fails too
		}{
			{60, 15, false}, {95, 0, false}, {100, 0, false}, {130, 5, false}, {300, 9, false},
			{60, 15, true},
		} {
			t.Run(fmt.Sprintf("%s, %d not started, %d in the window, first page past them fails %v", name, tt.nulls, tt.window, tt.failFirst), func(t *testing.T) {
				calls := append(repeatCall("n", tt.nulls, vocodetest.Call{Status: "not_started"}), windowCalls(callsNow, tt.window, 0)...)
				s, _ := callsServer(t, calls, vocodetest.WithCallsPastEndStatus(http.StatusNotFound), vocodetest.WithTotal(total))
				first := tt.nulls/size + 1
				if tt.failFirst {
					s.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointCalls, Page: first, Status: http.StatusNotFound})
				}
				c := newClient(t, s, vocode.Options{PageSize: size})
				st, err := c.Calls(context.Background(), vocode.CallsQuery{MaxUnstartedPages: bound, Now: func() time.Time { return callsNow }})
				if tt.failFirst {
					if vocode.ReasonOf(err) != vocode.ReasonClientError {
						t.Fatalf("err = %v, want the failing page %d's client_error", err, first)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want, _, _, _ := wantStats(calls[tt.nulls:], since)
				for _, status := range []string{"in_progress", "error", "ended"} {
					if st.ByStatus[status] != want[status] {
						t.Errorf("%s: %d, want %d", status, st.ByStatus[status], want[status])
					}
				}
				if total == vocodetest.TotalExact {
					// The total keeps every probe within the list.
					lastPage := (len(calls) + size - 1) / size
					for p, n := range s.Stats().Endpoints[vocodetest.EndpointCalls].Pages {
						if p > lastPage && n > 0 {
							t.Errorf("page %d past the last page %d of the total asked for %d times", p, lastPage, n)
						}
					}
				}
				if st.ByStatus["not_started"] < bound*size {
					t.Errorf("%d not started, want at least the %d of the pages read in order", st.ByStatus["not_started"], bound*size)
				}
			})
		}
	}
}

// vocode_calls_unstarted_truncated means calls without a start were left
// unread, in both orders: a block that fills the bound exactly, a multiple
// of the page size, is read whole and not reported truncated; one call
// more is.
func TestCallsUnstartedTruncatedExactBound(t *testing.T) {
	const size, bound = 10, 3
	window := windowCalls(callsNow, 6, 20)
	for _, order := range nullOrders {
		for _, tt := range []struct {
			nulls int
			want  string // "read" (all counted, not truncated), "skipped", or "" (either, as long as the flag tells)
		}{
			{bound * size, "read"},
			{bound*size - 1, "read"},
			{bound*size + 1, ""}, // oldest first, the 31st is left; newest first, the search reads it
			{5 * bound * size, "skipped"},
		} {
			t.Run(fmt.Sprintf("%s, %d not started", order.name, tt.nulls), func(t *testing.T) {
				calls := append(repeatCall("n", tt.nulls, vocodetest.Call{Status: "not_started"}), window...)
				s, _ := callsServer(t, calls, vocodetest.WithCallNulls(order.nulls))
				c := newClient(t, s, vocode.Options{PageSize: size})
				st, err := c.Calls(context.Background(), vocode.CallsQuery{MaxUnstartedPages: bound, Now: func() time.Time { return callsNow }})
				if err != nil {
					t.Fatal(err)
				}
				n := st.ByStatus["not_started"]
				if st.UnstartedTruncated != (n < tt.nulls) || (tt.want == "read" && n != tt.nulls) || (tt.want == "skipped" && n == tt.nulls) {
					t.Errorf("unstarted truncated %v with %d of %d calls not started counted, want %q", st.UnstartedTruncated, n, tt.nulls, tt.want)
				}
			})
		}
	}
}

// What the docs say of skipped pages: calls that failed before they
// started (no start, an end within the window) sort among the calls not
// started, and those on skipped pages are not counted, in vocode_calls nor
// by the VocodeCallsNotConnecting ratio; vocode_calls_unstarted_truncated
// is 1 and vocode_calls_truncated stays 0, for the window's started calls
// are all counted. Only reading the pages would count them.
func TestCallsSkippedPagesHideFailuresWithoutStart(t *testing.T) {
	const size, bound = 10, 2
	since := callsNow.Add(-15 * time.Minute)
	window := windowCalls(callsNow, 9, 20)
	failed := repeatCall("f", 300, vocodetest.Call{Status: "error", Stage: "created", Outcome: "call_did_not_connect", End: callsNow.Add(-time.Minute)})
	calls := append(append(repeatCall("n", bound*size, vocodetest.Call{Status: "not_started"}), failed...), window...)
	s, _ := callsServer(t, calls)
	c := newClient(t, s, vocode.Options{PageSize: size})
	st, err := c.Calls(context.Background(), vocode.CallsQuery{MaxUnstartedPages: bound, Now: func() time.Time { return callsNow }})
	if err != nil {
		t.Fatal(err)
	}
	wantStarted, _, _, _ := wantStats(window, since)
	counted := st.ByStatus["error"] - wantStarted["error"]
	if !st.UnstartedTruncated || st.Truncated || counted <= 0 || counted >= len(failed) {
		t.Errorf("unstarted truncated %v, truncated %v, %d of %d failed calls without a start counted; want true, false, some but not all",
			st.UnstartedTruncated, st.Truncated, counted, len(failed))
	}
	t.Logf("%d of %d calls that failed before they started counted; the rest were on skipped pages", counted, len(failed))
}
