package vocode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// EndpointCalls is the `endpoint` label of GET /v1/calls/list.
const EndpointCalls = "calls_list"

const callsPath = "/v1/calls/list"

// sortQuery asks for the newest calls first, so that a walk can stop at the
// window's start. The API publishes no list of sort columns; start_time is
// the only time a call has.
const sortQuery = "sort_column=start_time&sort_desc=true"

// Defaults for CallsQuery fields left zero.
const (
	DefaultCallsWindow   = 15 * time.Minute
	DefaultCallsMaxPages = 10
)

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

// CallsQuery says which calls Calls counts.
type CallsQuery struct {
	// Window: calls that started within it, or have not started, are
	// counted. 0 means DefaultCallsWindow.
	Window time.Duration
	// MaxPages bounds the pages of a walk; 0 means DefaultCallsMaxPages.
	MaxPages int
	// Now tells the time the window ends at; nil means time.Now.
	Now func() time.Time
	// ShortCall, ByAgent and MaxAgents shape CallStats.Depth; see
	// CallDepth. Zero values take DefaultShortCall and DefaultMaxAgents.
	ShortCall time.Duration
	ByAgent   bool
	MaxAgents int
}

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
	// Truncated: the walk stopped at MaxPages before the window's start
	// (or, unsorted, while has_more was still true), so the counts cover
	// less than the window.
	Truncated bool
	// Newest is the start time of the newest call seen, counted or not;
	// zero when none had one.
	Newest time.Time
	Pages  int // pages fetched, failed ones included
	Calls  int // distinct calls counted
	// Sorted: the walk relied on the API's newest-first order to stop at
	// the window's start.
	Sorted   bool
	PageSize int
	// Depth counts the window's calls by duration, human detection and
	// agent.
	Depth CallDepth
}

// Call is what the exporter reads of one call. Nothing else of it
// (transcript, numbers, context, telephony metadata, an embedded
// connection's credentials) is decoded.
type Call struct {
	ID string
	// Status is one of CallStatuses, or CallOther; the spec's default,
	// not_started, when the API leaves it out.
	Status string
	// Stage and Outcome are one of CallStages and CallOutcomes, CallOther,
	// or "" for none.
	Stage   string
	Outcome string
	// Start is when the call started: zero if it has not (NotStarted) or
	// start_time could not be read (BadStart).
	Start      time.Time
	NotStarted bool
	BadStart   bool
	// End is when the call ended: zero if end_time is null or could not
	// be read.
	End time.Time
	// HumanDetection is human_detection_result: one of
	// HumanDetectionResults, CallOther, or "" for null or none.
	HumanDetection string
	// Agent is the id of the call's agent, "" when it names none.
	Agent string
}

func (c Call) itemID() string { return c.ID }

// CallPage is one decoded page of GET /v1/calls/list.
type CallPage = PageOf[Call]

// callJSON mirrors the five fields of NormalizedCall the exporter needs;
// the decoder skips the others without decoding them.
type callJSON struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Stage   string    `json:"stage"`
	Outcome string    `json:"stage_outcome"`
	Start   startTime `json:"start_time"`
	// The deeper counts' fields (CallDepth).
	End   startTime      `json:"end_time"`
	Human humanDetection `json:"human_detection_result"`
	Agent callAgent      `json:"agent"`
}

// startTime is start_time: a number of seconds since the epoch (of
// milliseconds above 1e11), an RFC 3339 string, or null for a call that has
// not started. Anything else reads as unreadable, never as an error: one
// odd call must not cost the walk.
type startTime struct {
	t     time.Time
	state startState
}

type startState uint8

const (
	startMissing startState = iota // no start_time at all: not started
	startNull
	startRead
	startBad
)

// maxEpochSeconds bounds a plausible start time (year 5138); numbers
// above 1e11 are milliseconds, so anything above this after the
// conversion is neither.
const (
	msThreshold     = 1e11
	maxEpochSeconds = 1e11
)

func (s *startTime) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*s = parseStartTime(v)
	return nil
}

func parseStartTime(v jsontext.Value) startTime {
	switch v.Kind() {
	case 'n':
		return startTime{state: startNull}
	case '0':
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return startTime{state: startBad}
		}
		// To whole microseconds, the precision of Python's floats of
		// seconds: a float's nanoseconds are noise.
		micros := f * 1e6
		if f > msThreshold {
			micros = f * 1e3
		}
		if !(micros > 0 && micros <= maxEpochSeconds*1e6) {
			return startTime{state: startBad}
		}
		return startTime{t: time.UnixMicro(int64(math.Round(micros))).UTC(), state: startRead}
	case '"':
		b, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return startTime{state: startBad}
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, string(b)); err == nil {
				return startTime{t: t.UTC(), state: startRead}
			}
		}
	}
	return startTime{state: startBad}
}

// timeLayouts are the string forms of start_time read: RFC 3339, and the
// ISO 8601 Python writes for a datetime without a zone, read as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// DecodeCallsPage reads one page of the calls list from r. Errors
// describe what is wrong with the page without quoting it, so they are
// safe to log.
func DecodeCallsPage(r io.Reader) (*CallPage, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading page: %w", err)
	}
	return decodeCallsPage(b)
}

func decodeCallsPage(b []byte) (*CallPage, error) {
	return decodeListItems(b, callOf)
}

func callOf(i int, it *callJSON) (Call, error) {
	if it.ID == "" {
		return Call{}, fmt.Errorf("item %d has no id", i)
	}
	c := Call{
		ID:      it.ID,
		Status:  enumValue(it.Status, CallStatuses),
		Stage:   enumValue(it.Stage, CallStages),
		Outcome: enumValue(it.Outcome, CallOutcomes),
	}
	if c.Status == "" {
		c.Status = CallStatuses[0] // the spec's default
	}
	if it.End.state == startRead {
		c.End = it.End.t
	}
	c.HumanDetection, c.Agent = string(it.Human), string(it.Agent)
	switch it.Start.state {
	case startMissing, startNull:
		c.NotStarted = true
	case startRead:
		c.Start = it.Start.t
	default:
		c.BadStart = true
	}
	return c, nil
}

// enumValue is s as one of values, CallOther when it is none of them, or
// "" for none at all. The value returned is the package's own string, so
// that nothing of the page is kept by it.
func enumValue(s string, values []string) string {
	if s == "" {
		return ""
	}
	for _, v := range values {
		if s == v {
			return v
		}
	}
	return CallOther
}

// CallsPageSize is the page size the client currently asks the calls list
// for.
func (c *Client) CallsPageSize() int { return int(c.calls.pageSize.Load()) }

// Calls counts the calls of the window: it walks the calls list newest
// first, one page at a time, and stops at the first page that reaches a
// call older than the window, when has_more is false, or at MaxPages.
//
// The sort is a hint and is checked: if the API rejects it (a 422 naming
// sort_column or sort_desc) or ignores it (a call newer than one before
// it, duplicates aside), this walk goes on without relying on it, up to
// MaxPages, and the client walks unsorted from then on. Calls that arrive
// during a walk push others to later pages; each id is counted once.
//
// The stats are returned even on error, for Pages; their counts are then
// incomplete.
func (c *Client) Calls(ctx context.Context, q CallsQuery) (*CallStats, error) {
	if q.Window <= 0 {
		q.Window = DefaultCallsWindow
	}
	if q.MaxPages <= 0 {
		q.MaxPages = DefaultCallsMaxPages
	}
	now := time.Now
	if q.Now != nil {
		now = q.Now
	}
	w := &callsWalk{c: c, q: q, window: q.Window, since: now().Add(-q.Window), maxPages: q.MaxPages}
	for {
		w.reset(!c.callsUnsorted.Load())
		err := w.run(ctx)
		if w.sortQuery && errors.Is(err, errSortRejected) {
			// Pages asked for with a sort do not line up with pages
			// asked for without one: start over.
			c.unsorted("the API rejected the sort")
			continue
		}
		return w.stats, err
	}
}

// unsorted makes the client walk calls without the sort from now on, and
// says so once.
func (c *Client) unsorted(why string) {
	if c.callsUnsorted.CompareAndSwap(false, true) {
		c.opts.Logger.Warn("calls are not sorted by start time; walking them unsorted, up to the max pages, from now on",
			"url", c.base.String(), "endpoint", EndpointCalls, "reason", why)
	}
}

// callsWalk is the state of one walk of the calls list.
type callsWalk struct {
	c        *Client
	q        CallsQuery
	window   time.Duration
	since    time.Time // the window's start
	maxPages int
	pages    int // every request, across restarts

	sortQuery bool // the requests ask for the sort
	sorted    bool // the order seen so far is newest first
	size      int
	seen      map[string]struct{}
	last      time.Time // the start of the last call seen with one, for the order check
	stats     *CallStats
}

func (w *callsWalk) reset(sort bool) {
	w.sortQuery, w.sorted = sort, sort
	w.seen = map[string]struct{}{}
	w.last = time.Time{}
	w.stats = &CallStats{
		Window:     w.window,
		ByStatus:   zeroCounts(CallStatuses),
		ByOutcome:  zeroCounts(CallOutcomes),
		InProgress: zeroCounts(CallStages),
		Pages:      w.pages,
		Depth:      newCallDepth(w.q),
	}
}

func zeroCounts(keys []string) map[string]int {
	m := make(map[string]int, len(keys)+1)
	for _, k := range keys {
		m[k] = 0
	}
	return m
}

func (w *callsWalk) run(ctx context.Context) error {
	for page := 1; ; page++ {
		p, err := w.fetch(ctx, page)
		if err != nil {
			return err
		}
		old := w.add(p)
		switch {
		case !p.HasMore:
			return nil
		case w.sorted && old:
			// Every call after this page is older still.
			return nil
		case page >= w.maxPages:
			w.stats.Truncated = true
			return nil
		}
	}
}

// fetch fetches one page; page 1 finds the page size, as every list walk's
// first page does.
func (w *callsWalk) fetch(ctx context.Context, page int) (*CallPage, error) {
	if page > 1 {
		return w.fetchSized(ctx, page)
	}
	return w.c.calls.firstPage(w.c, func(size int) (*CallPage, error) {
		w.size = size
		return w.fetchSized(ctx, 1)
	})
}

// fetchSized fetches one page at the walk's page size.
func (w *callsWalk) fetchSized(ctx context.Context, page int) (*CallPage, error) {
	w.pages++
	w.stats.Pages = w.pages
	r := w.c.calls.request(page, w.size)
	if w.sortQuery {
		r.query = sortQuery
	}
	body, err := w.c.fetch(ctx, r)
	if err != nil {
		return nil, err
	}
	p, err := decodeListPage(w.c, &w.c.calls, body, page)
	if err == nil {
		w.stats.PageSize = w.size
	}
	return p, err
}

// add counts the calls of a page not seen before, and reports whether it
// reached a call that started before the window.
func (w *callsWalk) add(p *CallPage) (old bool) {
	s := w.stats
	for _, call := range p.Items {
		if _, dup := w.seen[call.ID]; dup {
			// Pushed here by calls that arrived since its page; it says
			// nothing of the order either.
			continue
		}
		w.seen[call.ID] = struct{}{}
		if !call.Start.IsZero() {
			if w.sorted && !w.last.IsZero() && call.Start.After(w.last) {
				// The walk goes on with the same query, so that the
				// pages still line up, but no longer stops early.
				w.sorted = false
				w.c.unsorted("the API ignored the sort")
			}
			w.last = call.Start
			if call.Start.After(s.Newest) {
				s.Newest = call.Start
			}
			if call.Start.Before(w.since) {
				old = true
				continue
			}
		}
		s.Calls++
		s.ByStatus[call.Status]++
		if call.Outcome != "" {
			s.ByOutcome[call.Outcome]++
		}
		if call.Status == "in_progress" {
			stage := call.Stage
			if stage == "" {
				stage = CallOther
			}
			s.InProgress[stage]++
		}
		s.Depth.add(call)
	}
	s.Sorted = w.sorted
	return old
}
