package vocode

import (
	linked "container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Budget bounds the API requests in flight across every client that shares
// it: one budget for the whole exporter, so that a scrape of many accounts
// cannot send the API hundreds of requests at once, whatever each account's
// own concurrency. Requests wait for a slot first come, first served, so no
// account starves while others keep it busy: a request that arrives behind
// n others gets a slot after those n, however many more come after it.
type Budget struct {
	slots  *slots
	waited atomic.Int64 // nanoseconds spent waiting, all requests together
}

// NewBudget returns a budget of limit requests in flight (at least 1).
func NewBudget(limit int) *Budget {
	return &Budget{slots: newSlots(limit)}
}

// acquire waits for a slot until ctx ends, and returns the function that
// gives it back. A nil budget has no bound.
func (b *Budget) acquire(ctx context.Context) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	start := time.Now()
	queued, err := b.slots.acquire(ctx)
	if queued {
		b.waited.Add(int64(time.Since(start)))
	}
	if err != nil {
		return nil, err
	}
	return b.slots.release, nil
}

// Limit is the most requests in flight at once.
func (b *Budget) Limit() int { return b.slots.limit }

// InFlight is how many requests hold a slot now.
func (b *Budget) InFlight() int { return b.slots.held() }

// Waiting is how many requests are queued for a slot now.
func (b *Budget) Waiting() int { return b.slots.waiting() }

// Waited is the time requests have spent waiting for a slot, added up.
func (b *Budget) Waited() time.Duration { return time.Duration(b.waited.Load()) }

// slots is a FIFO counting semaphore: the budget's, and each client's own.
// golang.org/x/sync/semaphore is FIFO too, but cannot say how many wait: a
// count kept beside it rises before the request is queued, so neither the
// waiting gauge nor a test can tell the queue's true length or order. Here
// the queue and its length change under one lock.
type slots struct {
	limit int
	mu    sync.Mutex
	taken int
	queue linked.List // of chan struct{}, closed when its request gets a slot
}

func newSlots(limit int) *slots { return &slots{limit: max(limit, 1)} }

// acquire takes a slot, queueing behind any request already waiting, until
// ctx ends. queued says whether it had to wait.
func (s *slots) acquire(ctx context.Context) (queued bool, err error) {
	s.mu.Lock()
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return false, err
	}
	if s.taken < s.limit && s.queue.Len() == 0 {
		s.taken++
		s.mu.Unlock()
		return false, nil
	}
	ready := make(chan struct{})
	elem := s.queue.PushBack(ready)
	s.mu.Unlock()

	select {
	case <-ready:
		return true, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	select {
	case <-ready:
		// The slot came as the context ended: pass it on, so that it is
		// not lost.
		s.mu.Unlock()
		s.release()
	default:
		s.queue.Remove(elem)
		s.mu.Unlock()
	}
	return true, ctx.Err()
}

// release gives a slot back: to the request at the head of the queue, if
// any, so that no newcomer can take it first.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if front := s.queue.Front(); front != nil {
		close(s.queue.Remove(front).(chan struct{}))
		return
	}
	s.taken--
}

func (s *slots) held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taken
}

func (s *slots) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.Len()
}
