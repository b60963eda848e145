package vocode

import (
	"sync"
	"time"
)

// CallsSortRetry is how long a client walks the calls list without the
// sort, once the API rejected or ignored it, before it asks for the sort
// again. Until then each walk costs up to the max pages; a retry costs one
// 422 against an API that rejects the sort, and nothing against one that
// ignores it (the walk goes on with the same requests).
const CallsSortRetry = 10 * time.Minute

// CallsLearned is what a client learned of the calls list's order. A
// client that replaces another for the same API (a key rotation) starts
// from what the other learned: see Options.CallsLearned.
type CallsLearned struct {
	// UnsortedSince is when the API last rejected or ignored the sort;
	// zero while it honours it, or before the first walk.
	UnsortedSince time.Time
}

// callsOrder is the client's CallsLearned, shared by its walks.
type callsOrder struct {
	mu      sync.Mutex
	learned CallsLearned
}

func (o *callsOrder) get() CallsLearned {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.learned
}

// useSort reports whether a walk at now asks for the sort: always, unless
// the API failed it less than CallsSortRetry ago.
func (o *callsOrder) useSort(now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	since := o.learned.UnsortedSince
	return since.IsZero() || now.Sub(since) >= CallsSortRetry
}

// CallsLearned returns what the client learned of the calls list's order.
func (c *Client) CallsLearned() CallsLearned { return c.callsOrder.get() }

// unsorted records that the API failed the sort at now, and says so when
// it used to honour it.
func (c *Client) unsorted(now time.Time, why string) {
	o := &c.callsOrder
	o.mu.Lock()
	was := o.learned.UnsortedSince
	o.learned.UnsortedSince = now
	o.mu.Unlock()
	if was.IsZero() {
		c.opts.Logger.Warn("calls are not sorted by start time; walking them unsorted, up to the max pages, and asking for the sort again from time to time",
			"url", c.base.String(), "endpoint", EndpointCalls, "reason", why, "retry", CallsSortRetry)
		return
	}
	c.opts.Logger.Info("calls are still not sorted by start time", "url", c.base.String(), "endpoint", EndpointCalls, "reason", why)
}

// sortHonoured records that a walk found the sort honoured, and says so
// when the API used to fail it.
func (c *Client) sortHonoured() {
	o := &c.callsOrder
	o.mu.Lock()
	was := o.learned.UnsortedSince
	o.learned.UnsortedSince = time.Time{}
	o.mu.Unlock()
	if !was.IsZero() {
		c.opts.Logger.Info("calls are sorted by start time again; walks stop at the window's start",
			"url", c.base.String(), "endpoint", EndpointCalls)
	}
}
