package collector

import (
	"context"
	"sync"
	"time"
)

// walkContext bounds a walk that scrapes share. Its deadline is the latest
// deadline of the scrapes sharing it, and moves later when a scrape with more
// time joins: a scrape that joins a walk is never cut short by the deadline
// of the scrape that started it. It also ends when its parent does (the
// account is removed, or the exporter stops).
//
// It is a context.Context of its own because the standard ones cannot move a
// deadline, and the API client reads Deadline() to decide whether a retry
// still fits.
type walkContext struct {
	parent context.Context
	done   chan struct{}
	// stopParent unhooks the parent's cancellation once the walk has ended.
	stopParent func() bool

	mu          sync.Mutex
	deadline    time.Time
	hasDeadline bool
	timer       *time.Timer
	err         error
}

func newWalkContext(parent context.Context, deadline time.Time, hasDeadline bool) *walkContext {
	c := &walkContext{parent: parent, done: make(chan struct{}), deadline: deadline, hasDeadline: hasDeadline}
	if hasDeadline {
		// A deadline already past fires at once: the timer must be in
		// place before expire can look at it.
		c.mu.Lock()
		c.timer = time.AfterFunc(time.Until(deadline), c.expire)
		c.mu.Unlock()
	}
	c.stopParent = context.AfterFunc(parent, func() { c.end(parent.Err()) })
	return c
}

func (c *walkContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, c.hasDeadline
}

func (c *walkContext) Done() <-chan struct{} { return c.done }

func (c *walkContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *walkContext) Value(key any) any { return c.parent.Value(key) }

// extend makes the walk last until deadline (or without a deadline when
// hasDeadline is false) if that is later than now planned. It reports false
// when the walk's context has already ended: then the caller needs a walk
// of its own.
func (c *walkContext) extend(deadline time.Time, hasDeadline bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return false
	case !c.hasDeadline:
	case !hasDeadline:
		c.hasDeadline = false
		c.timer.Stop()
	case deadline.After(c.deadline):
		c.deadline = deadline
		c.timer.Reset(time.Until(deadline))
	}
	return true
}

// outlives reports whether the walk may go on after deadline.
func (c *walkContext) outlives(deadline time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil && (!c.hasDeadline || c.deadline.After(deadline))
}

// expire ends the context if its deadline has passed. The timer may fire
// for a deadline that extend has since moved; then it does nothing.
func (c *walkContext) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Checked and ended under one lock, so that a scrape extending the
	// deadline at this moment either sees the context ended or keeps it
	// alive.
	if c.hasDeadline && !time.Now().Before(c.deadline) {
		c.endLocked(context.DeadlineExceeded)
	}
}

func (c *walkContext) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked(err)
}

func (c *walkContext) endLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
	if c.timer != nil {
		c.timer.Stop()
	}
}

// release ends the context once the walk is over and frees its timer and
// its hook on the parent.
func (c *walkContext) release() {
	c.stopParent()
	c.end(context.Canceled)
}
