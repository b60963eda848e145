package vocode

import "time"

// The values the API's enums hold, in the spec's order: every key a
// CallStats map always has.
var (
	CallStatuses = []string{"not_started", "in_progress", "error", "ended"}
	CallStages   = []string{"created", "picked_up", "transfer_started", "transfer_successful"}
	CallOutcomes = []string{"human_unanswered", "call_did_not_connect", "human_disconnected",
		"bot_disconnected", "transfer_unanswered", "transfer_disconnected"}
)

// CallOther counts a value outside the spec's enums.
const CallOther = "other"

// CallStats is what one walk of the calls list counted.
type CallStats struct {
	// Window is the window the counts cover: CallsQuery.Window, or its
	// default.
	Window time.Duration
	// ByStatus counts calls by status: every CallStatuses key is present,
	// CallOther only when such a call was seen.
	ByStatus map[string]int
	// ByOutcome counts calls by stage outcome: every CallOutcomes key is
	// present; calls without an outcome are not counted here.
	ByOutcome map[string]int
	// InProgress counts calls whose status is in_progress, by stage: every
	// CallStages key is present, CallOther for another stage or none.
	InProgress map[string]int
	// Undated counts the finished calls read whose start and end are both
	// null or unreadable: they cannot be placed in or out of the window,
	// and are counted here instead.
	Undated int
	// Truncated: the walk stopped at MaxPages before the window's start
	// (or, unsorted, while has_more was still true), so the counts cover
	// less than the window.
	Truncated bool
	// UnstartedTruncated: calls without a start time (not started, or
	// failed before they started) were left unread past MaxUnstartedPages
	// pages; not set when they fill the bound exactly. The counts of calls
	// without a start (not started, undated, and failures without a start
	// that ended in the window) are those of the calls read. The window's
	// started calls are counted in full all the same.
	UnstartedTruncated bool
	// Newest is the start time of the newest call seen, counted or not;
	// zero when none had one.
	Newest time.Time
	Pages  int // pages fetched, failed ones included
	Calls  int // distinct calls counted
	// Sorted: the walk relied on the API's newest-first order to stop at
	// the window's start.
	Sorted bool
	// Nulls is where the walk found the calls without a start time in the
	// newest-first order; NullsUnknown when it did not rely on the order.
	Nulls    NullsOrder
	PageSize int
	// Depth counts the window's calls by duration, human detection and
	// agent.
	Depth CallDepth
}

// NullsOrder is where an API sorts the calls without a start time.
type NullsOrder uint8

// Where the calls without a start time were found.
const (
	NullsUnknown NullsOrder = iota // unsorted walk, or not looked for
	NullsFirst                     // first newest-first, as PostgreSQL sorts DESC
	NullsLast                      // last newest-first, first oldest-first, as MySQL sorts
	NullsNone                      // neither first newest-first nor first oldest-first
)

func newCallStats(q CallsQuery) *CallStats {
	return &CallStats{
		Window:     q.Window,
		Depth:      newCallDepth(q),
		ByStatus:   zeroCounts(CallStatuses),
		ByOutcome:  zeroCounts(CallOutcomes),
		InProgress: zeroCounts(CallStages),
	}
}

func zeroCounts(keys []string) map[string]int {
	m := make(map[string]int, len(keys)+1)
	for _, k := range keys {
		m[k] = 0
	}
	return m
}

// placement is where a call stands against the window.
type placement uint8

const (
	inWindow placement = iota
	beforeWindow
	undated // finished, with neither start nor end readable
)

// place applies the window's rule to one call. A call with a start is in
// the window when it started at or after since. Without a readable start,
// a call not finished is counted, for it is the state now; a finished one
// is placed by its end; with neither, it is undated.
func place(c Call, since time.Time) placement {
	switch {
	case !c.Start.IsZero():
		if c.Start.Before(since) {
			return beforeWindow
		}
	case !c.Finished():
	case c.End.IsZero():
		return undated
	case c.End.Before(since):
		return beforeWindow
	}
	return inWindow
}

// count adds one call, seen for the first time, to the stats. It is the
// one place where a call is classified: a new count of the window's
// calls goes here.
func (s *CallStats) count(c Call, since time.Time) {
	if c.Start.After(s.Newest) {
		s.Newest = c.Start
	}
	switch place(c, since) {
	case beforeWindow:
		return
	case undated:
		s.Undated++
		return
	}
	s.Calls++
	s.ByStatus[c.Status]++
	if c.Outcome != "" {
		s.ByOutcome[c.Outcome]++
	}
	if c.Status == "in_progress" {
		stage := c.Stage
		if stage == "" {
			stage = CallOther
		}
		s.InProgress[stage]++
	}
	s.Depth.add(c)
}
