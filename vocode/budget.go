package vocode

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// Budget bounds the API requests in flight across every client that shares
// it: one budget for the whole exporter, so that a scrape of many accounts
// cannot send the API hundreds of requests at once, whatever each account's
// own concurrency. Requests wait for a slot first come, first served (the
// semaphore is FIFO), so no account starves while others keep it busy.
type Budget struct {
	limit    int64
	sem      *semaphore.Weighted
	inFlight atomic.Int64
	waiting  atomic.Int64
	waited   atomic.Int64 // nanoseconds spent waiting, all requests together
}

// NewBudget returns a budget of limit requests in flight (at least 1).
func NewBudget(limit int) *Budget {
	l := int64(max(limit, 1))
	return &Budget{limit: l, sem: semaphore.NewWeighted(l)}
}

// acquire waits for a slot until ctx ends, and returns the function that
// gives it back. A nil budget has no bound.
func (b *Budget) acquire(ctx context.Context) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	if !b.sem.TryAcquire(1) {
		b.waiting.Add(1)
		start := time.Now()
		err := b.sem.Acquire(ctx, 1)
		b.waited.Add(int64(time.Since(start)))
		b.waiting.Add(-1)
		if err != nil {
			return nil, err
		}
	}
	b.inFlight.Add(1)
	return func() {
		b.inFlight.Add(-1)
		b.sem.Release(1)
	}, nil
}

// Limit is the most requests in flight at once.
func (b *Budget) Limit() int { return int(b.limit) }

// InFlight is how many requests hold a slot now.
func (b *Budget) InFlight() int { return int(b.inFlight.Load()) }

// Waiting is how many requests wait for a slot now.
func (b *Budget) Waiting() int { return int(b.waiting.Load()) }

// Waited is the time requests have spent waiting for a slot, added up.
func (b *Budget) Waited() time.Duration { return time.Duration(b.waited.Load()) }
