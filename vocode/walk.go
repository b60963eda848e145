package vocode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// maxPages bounds a walk whose API keeps saying has_more with new ids; the
// deadline usually ends such a walk first, but a walk without one must end too.
const maxPages = 100_000

// maxPrealloc bounds the room reserved from the API's announced total.
const maxPrealloc = 100_000

// listItem is what a list's pages hold: items told apart by their id.
type listItem interface{ itemID() string }

// list is one paginated list of the API: where it is, how its pages read,
// and the page size it has learned. Every list is walked by the same code,
// so that paging, dedupe, concurrency, retries and hints are the same for
// all of them.
type list[T listItem] struct {
	endpoint string // the `endpoint` label and Error.Endpoint
	path     string
	noun     string // one item, as errors name it
	decode   func([]byte) (*PageOf[T], error)
	// tooLargeShrinks: a page over the body limit is asked for again
	// smaller, as a 422 naming the size is. For the calls list, whose
	// items carry transcripts: the size of its pages is in their items.
	tooLargeShrinks bool
	// pageSize is the size that last worked; remembered so that a 422 on
	// size costs one extra request per account, not one per scrape.
	pageSize atomic.Int64
}

// Result is what one walk of the connection list found.
type Result struct {
	// Connections holds each connection once, in the order first seen.
	Connections      []Connection
	Total            int // the API's total from page 1, if HasTotal
	HasTotal         bool
	TotalIsEstimated bool
	Pages            int // pages fetched, failed ones included
	PageSize         int
}

// listing is what one walk of a list found: the fields of Result, whatever
// the list holds.
type listing[T listItem] struct {
	items            []T
	total            int
	hasTotal         bool
	totalIsEstimated bool
	pages            int
	pageSize         int
}

// walk is the state of one walk: ids seen so far and the listing being built.
type walk[T listItem] struct {
	c      *Client
	l      *list[T]
	size   int
	seen   seenIDs
	result listing[T]
}

// seenIDs is what every list walk knows of the ids it has met: each item
// counts once, since offset paging serves an item twice when the list
// shifts under the walk, and pages that say has_more but bring nothing new
// end the walk, since an API that ignores the page parameter would
// otherwise serve page 1 until the walk's bound.
type seenIDs struct {
	ids   map[string]struct{}
	stale int // pages in a row that said has_more and brought nothing new
	// limit is how many such pages in a row fail the walk: 1 for a list
	// that changes seldom; more where items arrive all the time and can
	// push a whole page of seen ones under the next page number.
	limit int
}

func newSeenIDs(expect, limit int) seenIDs {
	return seenIDs{ids: make(map[string]struct{}, expect), limit: limit}
}

// add records id and reports whether it is new.
func (s *seenIDs) add(id string) bool {
	if _, dup := s.ids[id]; dup {
		return false
	}
	s.ids[id] = struct{}{}
	return true
}

// endPage fails the walk when limit pages in a row, this one included,
// said has_more and brought no item not seen before.
func (s *seenIDs) endPage(l listNames, pageNo, fresh int, hasMore bool) error {
	if !hasMore || fresh > 0 {
		s.stale = 0
		return nil
	}
	s.stale++
	if s.stale < s.limit {
		return nil
	}
	detail := "the page says has_more but brings no " + l.noun + " not seen before"
	if s.limit > 1 {
		detail = fmt.Sprintf("%d pages in a row say has_more but bring no %s not seen before", s.stale, l.noun)
	}
	return &Error{Reason: ReasonPagination, Endpoint: l.endpoint, Page: pageNo, Detail: detail}
}

// listNames is how errors name a list and its items.
type listNames struct{ endpoint, noun string }

func (l *list[T]) names() listNames { return listNames{l.endpoint, l.noun} }

// Walk fetches every page of the account-connections list. When page 1
// gives a total that is not estimated, the remaining pages are fetched
// concurrently; has_more is followed afterwards in case the list grew.
// The result is returned even on error, for its page count.
func (c *Client) Walk(ctx context.Context) (*Result, error) {
	l, err := walkList(ctx, c, &c.connections)
	return &Result{Connections: l.items, Total: l.total, HasTotal: l.hasTotal,
		TotalIsEstimated: l.totalIsEstimated, Pages: l.pages, PageSize: l.pageSize}, err
}

// walkList walks l as Walk describes.
func walkList[T listItem](ctx context.Context, c *Client, l *list[T]) (*listing[T], error) {
	w := &walk[T]{c: c, l: l}
	first, err := w.firstPage(ctx)
	if err != nil {
		return &w.result, err
	}
	// Size for the total the API announces, but only up to a bound: a lying
	// total must not make us allocate for a billion items.
	expect := max(len(first.Items), min(first.Total, maxPrealloc))
	w.seen = newSeenIDs(expect, 1)
	w.result.items = make([]T, 0, expect)
	w.result.total, w.result.hasTotal = first.Total, first.HasTotal
	w.result.totalIsEstimated = first.TotalIsEstimated
	if err := w.add(first, 1); err != nil {
		return &w.result, err
	}

	last, lastNo := first, 1
	if first.HasMore && first.HasTotal && !first.TotalIsEstimated {
		// Rounded up without adding to Total, which comes from the API:
		// the decoder bounds it, but the sum need not rely on that.
		pages := first.Total / w.size
		if first.Total%w.size != 0 {
			pages++
		}
		if pages > 1 {
			last, lastNo, err = w.concurrent(ctx, 2, min(pages, maxPages))
			if err != nil {
				return &w.result, err
			}
		}
	}
	for last.HasMore {
		if lastNo >= maxPages {
			return &w.result, &Error{Reason: ReasonPagination, Endpoint: l.endpoint, Page: lastNo,
				Detail: fmt.Sprintf("the API still says has_more after %d pages", maxPages)}
		}
		lastNo++
		last, err = w.fetch(ctx, lastNo)
		if err != nil {
			return &w.result, err
		}
		if err := w.add(last, lastNo); err != nil {
			return &w.result, err
		}
	}
	return &w.result, nil
}

// firstPage fetches page 1, halving the page size while the API rejects it.
func (w *walk[T]) firstPage(ctx context.Context) (*PageOf[T], error) {
	p, err := w.l.firstPage(w.c, func(size int) (*PageOf[T], error) {
		w.size = size
		return w.fetch(ctx, 1)
	})
	if err == nil {
		w.result.pageSize = w.size
	}
	return p, err
}

// firstPage fetches page 1 of l with fetch, at the page size l has learned,
// as shrinking does. Every list walk starts here.
func (l *list[T]) firstPage(c *Client, fetch func(size int) (*PageOf[T], error)) (*PageOf[T], error) {
	p, _, err := l.shrinking(c, int(l.pageSize.Load()), fetch)
	return p, err
}

// shrinking fetches a page of l with fetch at size, halving the size
// while the API rejects it (down to MinPageSize), and remembers and logs
// once the size that worked. It returns the size the page was fetched at.
// A page is too large for the API when a 422 names its size; for a list
// whose items can be heavy (tooLargeShrinks), also when its body passes
// the client's limit.
func (l *list[T]) shrinking(c *Client, size int, fetch func(size int) (*PageOf[T], error)) (*PageOf[T], int, error) {
	asked := size
	for {
		p, err := fetch(size)
		if err == nil {
			if size != asked {
				l.pageSize.Store(int64(size))
				c.opts.Logger.Warn("API rejected the page size; using a smaller one from now on",
					"url", c.base.String(), "endpoint", l.endpoint, "rejected", asked, "page_size", size)
			}
			return p, size, nil
		}
		tooLarge := errors.Is(err, errPageSizeRejected) || (l.tooLargeShrinks && ReasonOf(err) == ReasonTooLarge)
		if !tooLarge || size <= MinPageSize {
			return nil, size, err
		}
		size = max(size/2, MinPageSize)
	}
}

func (w *walk[T]) fetch(ctx context.Context, page int) (*PageOf[T], error) {
	w.result.pages++
	return listPage(ctx, w.c, w.l, page, w.size)
}

// add records a page's items, each id once: offset paging can serve an
// item twice when the list shifts under the walk.
func (w *walk[T]) add(p *PageOf[T], pageNo int) error {
	fresh := 0
	for _, it := range p.Items {
		if w.seen.add(it.itemID()) {
			w.result.items = append(w.result.items, it)
			fresh++
		}
	}
	return w.seen.endPage(w.l.names(), pageNo, fresh, p.HasMore)
}

// listPage fetches one page of l, retrying 429, 5xx and transport errors.
func listPage[T listItem](ctx context.Context, c *Client, l *list[T], page, size int) (*PageOf[T], error) {
	body, err := c.fetch(ctx, l.request(page, size))
	if err != nil {
		return nil, err
	}
	return decodeListPage(c, l, body, page)
}

func (l *list[T]) request(page, size int) request {
	return request{endpoint: l.endpoint, path: l.path, page: page, size: size}
}

// decodeListPage decodes a page of l fetched for page and releases its
// buffer.
func decodeListPage[T listItem](c *Client, l *list[T], body *bytes.Buffer, page int) (*PageOf[T], error) {
	defer c.release(body)
	p, err := l.decode(body.Bytes())
	if err != nil {
		return nil, &Error{Reason: ReasonDecode, Endpoint: l.endpoint, Page: page, Status: http.StatusOK, Err: err}
	}
	if p.Page != 0 && p.Page != page {
		return nil, &Error{Reason: ReasonPagination, Endpoint: l.endpoint, Page: page, Status: http.StatusOK,
			Detail: fmt.Sprintf("asked for page %d, the API served page %d", page, p.Page)}
	}
	return p, nil
}

// concurrent fetches pages from..to, then adds them in page order. The
// client's request slots bound the requests in flight for the account,
// whatever else it walks at the same time; the walk itself keeps at most
// Concurrency pages between launch and fetched, so that a long list costs
// a few goroutines, not one per page, and pages ask for slots in order.
// It returns the last page it added and its number.
//
// A total that overstates the list sends it past the list's end, where the
// API may answer anything, so the outcome is decided in page order: by the
// first page that fails and the first page without has_more, whichever
// comes first. A page without has_more ends the walk with the pages up to
// it, and what pages after it answer does not matter; a failure fails the
// walk unless a page before it turns out to end the list. So each of those
// pages cancels the pages after it (they are past the end, or the walk
// fails anyway) and stops the launching, but never touches the pages
// before it, which still decide.
func (w *walk[T]) concurrent(ctx context.Context, from, to int) (*PageOf[T], int, error) {
	n := to - from + 1
	pages := make([]*PageOf[T], n)
	errs := make([]error, n)
	cut := &cutter{stop: n}
	defer cut.cancelAll()
	sem := make(chan struct{}, w.c.opts.Concurrency) // pages launched, not requests: see above
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		pageCtx, ok := cut.launch(ctx, i)
		if !ok {
			break
		}
		w.result.pages++
		wg.Go(func() {
			body, err := w.c.fetch(pageCtx, w.l.request(from+i, w.size))
			if err != nil {
				// Cut before the slot is freed: the launching, waiting
				// for the slot, then asks for nothing past this page.
				cut.after(i)
				errs[i] = err
				<-sem
				return
			}
			<-sem // the request is done: decoding needs no slot
			p, err := decodeListPage(w.c, w.l, body, from+i)
			pages[i], errs[i] = p, err
			if err != nil || !p.HasMore {
				cut.after(i)
			}
		})
	}
	wg.Wait()

	// In page order, the first page that fails or ends the list decides.
	// A page cancelled by the cutter always comes after the page that
	// cut it, so its error is never the one reported.
	last := n
	for i := range n {
		if errs[i] != nil {
			return nil, 0, errs[i]
		}
		if pages[i] == nil {
			// Never launched, though no page before it ended the list
			// or failed: the walk's own context ended first.
			return nil, 0, &Error{Reason: classifyTransport(ctx.Err()), Endpoint: w.l.endpoint, Page: from + i, Err: ctx.Err()}
		}
		if !pages[i].HasMore {
			last = i + 1 // pages past the end may have been fetched; they add nothing
			break
		}
	}
	for i, p := range pages[:last] {
		if err := w.add(p, from+i); err != nil {
			return nil, 0, err
		}
	}
	return pages[last-1], from + last - 1, nil
}

// cutter gives each page of a concurrent fetch its own context, so that a
// page that fails or ends the list can cancel the pages after it alone.
type cutter struct {
	mu      sync.Mutex
	stop    int // pages from this index on are not launched
	cancels []context.CancelFunc
}

// launch returns the context for page i, or false when i is past a page
// that failed or ended the list.
func (c *cutter) launch(ctx context.Context, i int) (context.Context, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i >= c.stop {
		return nil, false
	}
	pageCtx, cancel := context.WithCancel(ctx)
	c.cancels = append(c.cancels, cancel)
	return pageCtx, true
}

// after cancels the pages after page i and stops launching them.
func (c *cutter) after(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i+1 >= c.stop {
		return
	}
	c.stop = i + 1
	for _, cancel := range c.cancels[min(c.stop, len(c.cancels)):] {
		cancel()
	}
}

func (c *cutter) cancelAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cancel := range c.cancels {
		cancel()
	}
}
