package vocode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// maxPages bounds a walk whose API keeps saying has_more with new ids; the
// deadline usually ends such a walk first, but a walk without one must end too.
const maxPages = 100_000

// maxPrealloc bounds the room reserved from the API's announced total.
const maxPrealloc = 100_000

// Result is what one walk of the list found.
type Result struct {
	// Connections holds each connection once, in the order first seen.
	Connections      []Connection
	Total            int // the API's total from page 1, if HasTotal
	HasTotal         bool
	TotalIsEstimated bool
	Pages            int // pages fetched, failed ones included
	PageSize         int
}

// walk is the state of one walk: ids seen so far and the result being built.
type walk struct {
	c      *Client
	size   int
	seen   map[string]struct{}
	result *Result
}

// Walk fetches every page of the account-connections list. When page 1
// gives a total that is not estimated, the remaining pages are fetched
// concurrently; has_more is followed afterwards in case the list grew.
// The result is returned even on error, for its page count.
func (c *Client) Walk(ctx context.Context) (*Result, error) {
	w := &walk{c: c, result: &Result{}}
	first, err := w.firstPage(ctx)
	if err != nil {
		return w.result, err
	}
	// Size for the total the API announces, but only up to a bound: a lying
	// total must not make us allocate for a billion connections.
	expect := max(len(first.Items), min(first.Total, maxPrealloc))
	w.seen = make(map[string]struct{}, expect)
	w.result.Connections = make([]Connection, 0, expect)
	w.result.Total, w.result.HasTotal = first.Total, first.HasTotal
	w.result.TotalIsEstimated = first.TotalIsEstimated
	if err := w.add(first, 1); err != nil {
		return w.result, err
	}

	last, lastNo := first, 1
	if first.HasMore && first.HasTotal && !first.TotalIsEstimated {
		pages := (first.Total + w.size - 1) / w.size
		if pages > 1 {
			last, lastNo, err = w.concurrent(ctx, 2, min(pages, maxPages))
			if err != nil {
				return w.result, err
			}
		}
	}
	for last.HasMore {
		if lastNo >= maxPages {
			return w.result, &Error{Reason: ReasonPagination, Page: lastNo,
				Detail: fmt.Sprintf("the API still says has_more after %d pages", maxPages)}
		}
		lastNo++
		last, err = w.fetch(ctx, lastNo)
		if err != nil {
			return w.result, err
		}
		if err := w.add(last, lastNo); err != nil {
			return w.result, err
		}
	}
	return w.result, nil
}

// firstPage fetches page 1, halving the page size while the API rejects it.
func (w *walk) firstPage(ctx context.Context) (*Page, error) {
	w.size = w.c.PageSize()
	asked := w.size
	for {
		p, err := w.fetch(ctx, 1)
		if err == nil {
			if w.size != asked {
				w.c.pageSize.Store(int64(w.size))
				w.c.opts.Logger.Warn("API rejected the page size; using a smaller one from now on",
					"url", w.c.base.String(), "rejected", asked, "page_size", w.size)
			}
			w.result.PageSize = w.size
			return p, nil
		}
		if !errors.Is(err, errPageSizeRejected) || w.size <= MinPageSize {
			return nil, err
		}
		w.size = max(w.size/2, MinPageSize)
	}
}

func (w *walk) fetch(ctx context.Context, page int) (*Page, error) {
	w.result.Pages++
	return w.c.ListPage(ctx, page, w.size)
}

// add records a page's connections, each id once: offset paging can serve an
// item twice when the list shifts under the walk.
func (w *walk) add(p *Page, pageNo int) error {
	fresh := 0
	for _, conn := range p.Items {
		if _, dup := w.seen[conn.ID]; dup {
			continue
		}
		w.seen[conn.ID] = struct{}{}
		w.result.Connections = append(w.result.Connections, conn)
		fresh++
	}
	if p.HasMore && fresh == 0 {
		return &Error{Reason: ReasonPagination, Page: pageNo,
			Detail: "the page says has_more but brings no connection not seen before"}
	}
	return nil
}

// concurrent fetches pages from..to with at most Concurrency requests in
// flight, then adds them in page order. It returns the last page it added
// and its number. A page without has_more ends the launching early, so a
// total that overstates the list costs a few requests, not thousands.
func (w *walk) concurrent(ctx context.Context, from, to int) (*Page, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := to - from + 1
	pages := make([]*Page, n)
	errs := make([]error, n)
	var end atomic.Int64 // index of the first page seen without has_more, +1
	sem := make(chan struct{}, w.c.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || (end.Load() != 0 && int64(i) >= end.Load()) {
			break
		}
		w.result.Pages++
		wg.Go(func() {
			body, err := w.c.fetch(ctx, from+i, w.size)
			<-sem // the request is done: decoding needs no slot
			var p *Page
			if err == nil {
				p, err = w.c.decode(body, from+i)
			}
			pages[i], errs[i] = p, err
			if err != nil {
				cancel() // one failed page fails the walk: stop the rest
				return
			}
			if !p.HasMore {
				for e := end.Load(); e == 0 || int64(i+1) < e; e = end.Load() {
					if end.CompareAndSwap(e, int64(i+1)) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	// Report the first real failure, not the cancellations it caused.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, 0, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, &Error{Reason: classifyTransport(err), Page: from, Err: err}
	}
	last := n
	if e := int(end.Load()); e != 0 {
		last = e // pages past the end may have been fetched; they add nothing
	}
	for i, p := range pages[:last] {
		if err := w.add(p, from+i); err != nil {
			return nil, 0, err
		}
	}
	return pages[last-1], from + last - 1, nil
}
