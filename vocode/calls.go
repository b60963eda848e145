package vocode

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EndpointCalls is the `endpoint` label of GET /v1/calls/list.
const EndpointCalls = "calls_list"

const callsPath = "/v1/calls/list"

// The sorts a walk asks for. Newest first lets a walk stop at the
// window's start; oldest first finds the calls without a start time of an
// API that sorts them last newest first. The API publishes no list of
// sort columns; start_time is the only time a call has.
const (
	sortNewestFirst = "sort_column=start_time&sort_desc=true"
	sortOldestFirst = "sort_column=start_time&sort_desc=false"
)

// Defaults for CallsQuery fields left zero.
const (
	DefaultCallsWindow            = 15 * time.Minute
	DefaultCallsMaxPages          = 10
	DefaultCallsMaxUnstartedPages = 10
)

// staleCallPages is how many pages in a row may say has_more without a
// call not seen before: calls arrive all the time, and a page's worth of
// arrivals pushes a page of seen calls under the next page number.
const staleCallPages = 2

// CallsQuery says which calls Calls counts.
type CallsQuery struct {
	// Window: calls that started within it are counted; so are calls
	// without a readable start that are not finished, and finished ones
	// that ended within it. 0 means DefaultCallsWindow.
	Window time.Duration
	// MaxPages bounds the pages of a walk that hold started calls; 0
	// means DefaultCallsMaxPages.
	MaxPages int
	// MaxUnstartedPages bounds the pages read that hold only calls
	// without a start time; 0 means DefaultCallsMaxUnstartedPages.
	MaxUnstartedPages int
	// Now tells the time the window ends at, and the time of the sort's
	// retries; nil means time.Now.
	Now func() time.Time
	// ShortCall, ByAgent and MaxAgents shape CallStats.Depth; see
	// CallDepth. Zero values take DefaultShortCall and DefaultMaxAgents.
	ShortCall time.Duration
	ByAgent   bool
	MaxAgents int
}

func (q CallsQuery) withDefaults() CallsQuery {
	if q.Window <= 0 {
		q.Window = DefaultCallsWindow
	}
	if q.MaxPages <= 0 {
		q.MaxPages = DefaultCallsMaxPages
	}
	if q.MaxUnstartedPages <= 0 {
		q.MaxUnstartedPages = DefaultCallsMaxUnstartedPages
	}
	if q.Now == nil {
		q.Now = time.Now
	}
	return q
}

// CallsPageSize is the page size the client currently asks the calls list
// for.
func (c *Client) CallsPageSize() int { return int(c.calls.pageSize.Load()) }

// errSortIgnored restarts a walk without the sort: the API ignored it
// after the walk had skipped pages, which an unsorted walk cannot do.
var errSortIgnored = errors.New("sort ignored after pages were skipped")

// Calls counts the calls of the window: it walks the calls list newest
// first, one page at a time, and stops at the first page that reaches a
// call older than the window, when has_more is false, or at MaxPages.
//
// Calls without a start time sort together, first or last; the API does
// not say which. Newest first, a walk that begins with them reads up to
// MaxUnstartedPages of them, then searches for the first page past them
// (a galloping then binary search over page numbers, at most
// 2*ceil(log2(d))+1 requests for d pages left of them) and walks the
// window from there. A walk that does not begin with them asks for one
// page oldest first, where they then come first, and reads them there, up
// to MaxUnstartedPages.
//
// The sort is a hint and is checked: if the API rejects it (a 422 naming
// sort_column or sort_desc) or ignores it (a call newer than one before
// it, duplicates aside), this walk goes on without relying on it, up to
// MaxPages, and the client walks unsorted for CallsSortRetry, then tries
// the sort again. Calls that arrive during a walk push others to later
// pages; each id is counted once.
//
// The stats are returned even on error, for Pages; their counts are then
// incomplete.
func (c *Client) Calls(ctx context.Context, q CallsQuery) (*CallStats, error) {
	q = q.withDefaults()
	now := q.Now()
	w := &callsWalk{c: c, q: q, since: now.Add(-q.Window), size: int(c.calls.pageSize.Load())}
	sort := c.callsOrder.useSort(now)
	for {
		w.reset(sort)
		err := w.run(ctx)
		if !w.sortQuery {
			return w.stats, err
		}
		switch {
		case errors.Is(err, errSortRejected):
			// Pages asked for with a sort do not line up with pages
			// asked for without one: start over.
			c.unsorted(now, "the API rejected the sort")
		case errors.Is(err, errSortIgnored):
			c.unsorted(now, "the API ignored the sort")
		case !w.sorted:
			c.unsorted(now, "the API ignored the sort")
			return w.stats, err
		case err == nil:
			c.sortHonoured()
			return w.stats, nil
		default:
			return w.stats, err
		}
		sort = false
	}
}

// callsWalk is the state of one walk of the calls list.
type callsWalk struct {
	c     *Client
	q     CallsQuery
	since time.Time // the window's start
	pages int       // every request, across restarts
	size  int       // the page size, learned by the walk's requests

	sortQuery bool // the requests ask for a sort
	sorted    bool // the order seen so far is newest first
	jumped    bool // the walk skipped pages: it cannot go on unsorted
	total     int  // the calls an exact `total` announced newest first; 0 without one
	seen      seenIDs
	// last is the start of the last call read with one, in a run of
	// consecutive pages newest first, for the order check.
	last  time.Time
	stats *CallStats
}

func (w *callsWalk) reset(sort bool) {
	w.sortQuery, w.sorted, w.jumped = sort, sort, false
	w.seen = newSeenIDs(0, staleCallPages)
	w.last = time.Time{}
	w.stats = newCallStats(w.q)
	w.stats.Pages = w.pages
}

// pageFacts is what a page showed the walk.
type pageFacts struct {
	items     int
	nulls     int  // calls whose start_time is null
	firstNull bool // the page begins with such a call
	old       bool // a call started before the window
	fresh     int  // calls not seen before
	lastStart time.Time
}

// unstarted reports whether the page holds calls, all without a start.
func (f pageFacts) unstarted() bool { return f.items > 0 && f.nulls == f.items }

func (w *callsWalk) run(ctx context.Context) error {
	defer func() { w.stats.Sorted = w.sorted }()
	if !w.sortQuery {
		return w.unsorted(ctx, nil, 0, 0)
	}
	p, start, f, err := w.fetch(ctx, 0, true)
	if err != nil {
		return err
	}
	nullsFirst := f.firstNull
	unstarted, started := 0, 0 // pages read in order, of each kind
	for {
		if !w.sorted {
			if w.jumped {
				return errSortIgnored
			}
			return w.unsorted(ctx, p, start, unstarted+started+1) // p is read, not yet tallied
		}
		if f.unstarted() {
			unstarted++
			if p.HasMore && unstarted >= w.q.MaxUnstartedPages {
				if p, start, f, err = w.search(ctx, start); err != nil {
					return err
				}
				continue
			}
		} else {
			started++
		}
		if !p.HasMore {
			if !nullsFirst {
				w.stats.Nulls = NullsNone
				if f.nulls > 0 {
					w.stats.Nulls = NullsLast
				}
			} else {
				w.stats.Nulls = NullsFirst
			}
			return nil // the whole list was read
		}
		if f.old && w.sorted {
			break // every call after this page is older still
		}
		if started >= w.q.MaxPages {
			w.stats.Truncated = true
			break
		}
		if p, start, f, err = w.fetch(ctx, start+w.size, true); err != nil {
			return err
		}
	}
	if nullsFirst {
		w.stats.Nulls = NullsFirst
		return nil
	}
	return w.unstartedOldestFirst(ctx)
}

// unsorted walks on in the order the API serves, from the page after p
// (at start, the n-th read) or from page 1, counting every call up to
// MaxPages pages.
func (w *callsWalk) unsorted(ctx context.Context, p *CallPage, start, n int) error {
	next := 0
	if p != nil {
		next = start + w.size
	}
	for {
		if p != nil {
			if !p.HasMore {
				return nil
			}
			if n >= w.q.MaxPages {
				w.stats.Truncated = true
				return nil
			}
		}
		var err error
		if p, start, _, err = w.fetch(ctx, next, true); err != nil {
			return err
		}
		n++
		next = start + w.size
	}
}

// search finds the first page past the block of calls without a start
// that the page at offset lo belongs to. It gallops (lo+1, lo+2, lo+4...
// pages, never past the last page an exact `total` announces, unless that
// page still says has_more) until a page is not all such calls, then halves
// the gap: for a block that ends d pages past lo, at most 2*ceil(log2(d))+1
// requests. It returns that page, already counted, its offset and facts. A
// page past it that the search fetched is fetched again when the walk gets
// there: calls may have arrived since, and a page kept from before them
// would leave a gap.
//
// Probes can land past the end of the list, where the API may answer
// anything. As walkList does, a failed page fails the walk only if no page
// before it ends the list: a probe that fails is taken as the upper end of
// the gap, and its error is returned only if it turns out to be the first
// page past the block.
func (w *callsWalk) search(ctx context.Context, lo int) (*CallPage, int, pageFacts, error) {
	w.jumped = true
	var (
		hi    int
		hp    *CallPage
		hf    pageFacts
		hiErr error // why the page at hi failed, while hp is nil
		step  = 1
		from  = lo
		nulls = 0 // pages of the block the search read
	)
	defer func() {
		// Pages of the block neither read in order nor by the search:
		// their calls are not counted.
		if hp != nil && hi/w.size-from/w.size-1 > nulls {
			w.stats.UnstartedTruncated = true
		}
	}()
	for {
		probe := lo + step*w.size
		if last := w.lastOffset(); last > lo {
			probe = min(probe, last)
		}
		if probe/w.size+1 > maxPages {
			return nil, 0, pageFacts{}, &Error{Reason: ReasonPagination, Endpoint: EndpointCalls, Page: probe/w.size + 1,
				Detail: fmt.Sprintf("calls without a start time still fill page %d", lo/w.size+1)}
		}
		w.last = time.Time{} // pages apart: no order between them
		p, start, f, err := w.fetch(ctx, probe, true)
		if err != nil {
			hi, hiErr = probe/w.size*w.size, err
			break
		}
		if !f.unstarted() || !p.HasMore {
			hi, hp, hf = start, p, f
			break
		}
		lo, step = start, step*2
		nulls++
	}
	for hi/w.size-lo/w.size > 1 {
		w.last = time.Time{}
		mid := (lo/w.size + hi/w.size) / 2 * w.size
		p, start, f, err := w.fetch(ctx, mid, true)
		switch {
		case err != nil:
			hi, hp, hiErr = mid, nil, err
		case f.unstarted() && p.HasMore:
			lo = start
			nulls++
		default:
			hi, hp, hf, hiErr = start, p, f, nil
		}
	}
	if hp == nil {
		// The first page past the block is the one that failed.
		return nil, 0, pageFacts{}, hiErr
	}
	w.last = hf.lastStart // the walk goes on from hp, in order
	return hp, hi, hf, nil
}

// lastOffset is the offset of the last page an exact `total` announced, or
// 0 without one. The total is a hint: it only keeps probes from going past
// the end, and a page there that says has_more lets them go on.
func (w *callsWalk) lastOffset() int {
	if w.total <= 0 {
		return 0
	}
	return (w.total - 1) / w.size * w.size
}

// unstartedOldestFirst reads the calls without a start time of an API
// that does not sort them first newest first: one page oldest first
// tells whether they come first that way, and if so the walk reads them
// there, up to MaxUnstartedPages. Past the bound, one more page, not
// counted, tells whether any were left unread, as the search's first
// probe does newest first: a block that fills the bound exactly is not
// reported truncated.
func (w *callsWalk) unstartedOldestFirst(ctx context.Context) error {
	w.seen.stale = 0 // a new run of pages: the newest-first one's last says nothing of it
	start := 0
	for n := 1; ; n++ {
		p, s, f, err := w.fetch(ctx, start, false)
		if err != nil {
			return err
		}
		if n == 1 {
			if !f.firstNull {
				w.stats.Nulls = NullsNone
				return nil
			}
			w.stats.Nulls = NullsLast
		}
		if !f.unstarted() || !p.HasMore {
			return nil
		}
		start = s + w.size
		if n >= w.q.MaxUnstartedPages {
			left, err := w.unstartedAt(ctx, start)
			w.stats.UnstartedTruncated = left
			return err
		}
	}
}

// unstartedAt reports whether the call at offset off, oldest first, has
// no start time, without counting the page it reads: its calls are left
// unread.
func (w *callsWalk) unstartedAt(ctx context.Context, off int) (bool, error) {
	p, size, err := w.c.calls.shrinking(w.c, w.size, func(size int) (*CallPage, error) {
		return w.fetchPage(ctx, off/size+1, size, false)
	})
	w.size = size
	if err != nil {
		return false, err
	}
	i := off % size // the call's place in its page, when the size shrank
	return i < len(p.Items) && p.Items[i].NotStarted, nil
}

// fetch fetches the page that holds the call at offset off, newest or
// oldest first, counts it and returns it with its own offset. A page too
// large for the API is asked for again smaller, from the same offset.
func (w *callsWalk) fetch(ctx context.Context, off int, newestFirst bool) (*CallPage, int, pageFacts, error) {
	var pageNo int
	p, size, err := w.c.calls.shrinking(w.c, w.size, func(size int) (*CallPage, error) {
		pageNo = off/size + 1
		return w.fetchPage(ctx, pageNo, size, newestFirst)
	})
	w.size = size
	if err != nil {
		return nil, 0, pageFacts{}, err
	}
	if newestFirst {
		w.total = 0
		if p.HasTotal && !p.TotalIsEstimated {
			w.total = p.Total
		}
	}
	f := w.add(p, newestFirst)
	if err := w.seen.endPage(w.c.calls.names(), pageNo, f.fresh, p.HasMore); err != nil {
		return nil, 0, pageFacts{}, err
	}
	return p, (pageNo - 1) * size, f, nil
}

// fetchPage fetches one page at one size.
func (w *callsWalk) fetchPage(ctx context.Context, pageNo, size int, newestFirst bool) (*CallPage, error) {
	w.pages++
	w.stats.Pages = w.pages
	r := w.c.calls.request(pageNo, size)
	if w.sortQuery {
		r.query = sortNewestFirst
		if !newestFirst {
			r.query = sortOldestFirst
		}
	}
	body, err := w.c.fetch(ctx, r)
	if err != nil {
		return nil, err
	}
	p, err := decodeListPage(w.c, &w.c.calls, body, pageNo)
	if err == nil {
		w.stats.PageSize = size
	}
	return p, err
}

// add counts the calls of a page not seen before, and tells what the page
// showed. Newest first, it checks the order.
func (w *callsWalk) add(p *CallPage, newestFirst bool) pageFacts {
	f := pageFacts{items: len(p.Items)}
	for i, call := range p.Items {
		if call.NotStarted {
			f.nulls++
			f.firstNull = f.firstNull || i == 0
		}
		if newestFirst && !call.Start.IsZero() {
			f.old = f.old || call.Start.Before(w.since)
			f.lastStart = call.Start
		}
		if !w.seen.add(call.ID) {
			// Pushed here by calls that arrived since its page; it says
			// nothing of the order either.
			continue
		}
		f.fresh++
		if newestFirst && w.sortQuery && !call.Start.IsZero() {
			if w.sorted && !w.last.IsZero() && call.Start.After(w.last) {
				// The walk goes on with the same query, so that the
				// pages still line up, but no longer stops early.
				w.sorted = false
			}
			w.last = call.Start
		}
		w.stats.count(call, w.since)
	}
	return f
}
