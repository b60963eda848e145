// Package vocodetest is a fake of Vocode's Hosted API for tests, shaped like
// net/http/httptest: NewServer starts one on a loopback port and tests point
// the exporter at its URL. It serves GET /v1/account_connections/list,
// GET /v1/numbers/list, GET /v1/usage, GET /v1/calls/list and
// GET /v1/agents/list from data sets of any size and injects faults on
// demand, on one endpoint or on all of them.
package vocodetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAPIKey is the key a fake accepts unless WithAPIKey says otherwise.
const DefaultAPIKey = "vocodetest-key"

// The endpoints a fake serves, named as the vocode package names them
// (vocode.EndpointList, vocode.EndpointNumbers, vocode.EndpointUsage,
// vocode.EndpointCalls), for Fault.Endpoint, Stats.Endpoints, OnServe and
// WithMaxPageSizeFor.
const (
	EndpointConnections = "account_connections_list"
	EndpointNumbers     = "numbers_list"
	EndpointUsage       = "usage"
	EndpointCalls       = "calls_list"
	EndpointAgents      = "agents_list"
	// AnyEndpoint, as Fault.Endpoint, makes a fault apply to every endpoint.
	AnyEndpoint = "*"
)

// paths gives the endpoint the fake serves at each path.
var paths = map[string]string{
	"/v1/account_connections/list": EndpointConnections,
	"/v1/numbers/list":             EndpointNumbers,
	"/v1/usage":                    EndpointUsage,
	"/v1/calls/list":               EndpointCalls,
	"/v1/agents/list":              EndpointAgents,
}

// userID is the user every item the fake serves belongs to.
const userID = "00000000-0000-4000-8000-000000000001"

// TotalMode says what a fake reports as `total`.
type TotalMode int

// How a fake reports `total`.
const (
	TotalExact     TotalMode = iota // total is the list's length, not estimated
	TotalEstimated                  // total given but flagged as an estimate
	TotalNone                       // no total or total_is_estimated fields: the pre-2024 API
)

// Connection is one account connection as the fake serves it.
type Connection struct {
	ID   string
	Type string // e.g. "account_connection_twilio"; any string is served
	// SteeringPool is served as an array; nil is served as a missing field
	// unless NullSteeringPool asks for an explicit null.
	SteeringPool     []string
	NullSteeringPool bool
	AnyCallerID      *bool // nil: the field is left out
	Credentials      map[string]string
	// Raw, when set, is served verbatim as the item, for shapes the fields
	// above cannot express.
	Raw json.RawMessage
}

// Option configures a fake.
type Option func(*API)

// WithAPIKey sets the bearer key the fake accepts.
func WithAPIKey(key string) Option { return func(a *API) { a.key = key } }

// WithLatency delays every answer by d, as a distant API would.
func WithLatency(d time.Duration) Option { return func(a *API) { a.latency = d } }

// WithMaxPageSize makes the fake answer 422 naming `size` to larger pages,
// on every list.
func WithMaxPageSize(n int) Option {
	return func(a *API) {
		a.maxSize[EndpointConnections] = n
		a.maxSize[EndpointNumbers] = n
		a.maxSize[EndpointCalls] = n
		a.maxSize[EndpointAgents] = n
	}
}

// WithMaxPageSizeFor is WithMaxPageSize for one list (EndpointConnections,
// EndpointNumbers, EndpointCalls or EndpointAgents) alone, so that each list can reject a
// different size.
func WithMaxPageSizeFor(endpoint string, n int) Option {
	return func(a *API) { a.maxSize[endpoint] = n }
}

// WithNumbers sets the phone numbers the fake serves; it serves none
// unless told.
func WithNumbers(nums []Number) Option { return func(a *API) { a.SetNumbers(nums) } }

// WithUsage sets the usage the fake serves; unless told, it serves a
// developer plan with no minutes used and no limit.
func WithUsage(u Usage) Option { return func(a *API) { a.SetUsage(u) } }

// WithTotal sets how the fake reports `total`, on both lists.
func WithTotal(m TotalMode) Option { return func(a *API) { a.total = m } }

// WithTotalOffset makes the fake's `total` miss the list's length by n: more
// than there are for n > 0, as an API whose count lags behind deletions.
// It applies to TotalExact and TotalEstimated, on both lists.
func WithTotalOffset(n int) Option { return func(a *API) { a.totalOffset = n } }

// WithTotalValue makes the fake serve v verbatim as `total` (-1, 2.5, "7",
// null, ...), with total_is_estimated false, whatever WithTotal says, on
// both lists. v must be valid JSON.
func WithTotalValue(v json.RawMessage) Option {
	return func(a *API) { a.totalValue = append(json.RawMessage(nil), v...) }
}

// WithCallsPastEndStatus makes the fake answer a request for a page of the
// calls list past its last page with status (404, 500...) instead of an
// empty page: the API promises nothing there, and a search for the end of
// the calls without a start time asks for such pages.
func WithCallsPastEndStatus(status int) Option { return func(a *API) { a.callsPastEnd = status } }

// Fault changes the answer to matching requests. Status, Body and Header
// answer instead of the page; Handler takes over completely; Delay and Hang
// hold the answer back. With none of those set, only Delay applies.
type Fault struct {
	// Endpoint is the endpoint it applies to: EndpointConnections,
	// EndpointNumbers, EndpointUsage, EndpointCalls, or AnyEndpoint for
	// all of them.
	// Empty means the connection list, the one endpoint there was before
	// the field, so that a Fault without it keeps meaning what it did.
	Endpoint string
	// Page is the list page it applies to; 0 for every page. The usage
	// endpoint has no pages: only a fault with Page 0 applies to it.
	Page  int
	Times int     // how many requests it affects; 0 for all of them
	Rate  float64 // the share of matching requests it affects; 0 means all
	// Status answers with this status; Body defaults to {"detail":"..."}.
	Status int
	Body   string
	Header http.Header
	Delay  time.Duration
	Hang   bool // never answer, until the client gives up or the fake closes
	// Handler serves the request instead; see RedirectTo, ResetMidBody, Huge.
	Handler http.HandlerFunc
}

type fault struct {
	Fault
	used int
}

// Stats counts what a fake has served since it started or ResetStats.
//
// The embedded EndpointStats count the connection list alone, as they did
// when the fake served nothing else, so that s.Requests and s.Pages mean
// what they did. Endpoints counts each endpoint apart, and All counts
// every endpoint together: All.MaxInFlight is the most requests at once
// across endpoints, what a request budget shared by all of them bounds.
type Stats struct {
	EndpointStats
	Endpoints     map[string]EndpointStats // by EndpointConnections, EndpointNumbers, EndpointUsage, EndpointCalls
	All           EndpointStats
	Authorization []string // distinct Authorization headers received, on any endpoint
}

// EndpointStats counts the requests to one endpoint, or to all of them.
type EndpointStats struct {
	Requests     int         // every request
	Unauthorized int         // requests turned away for a missing or wrong key
	MaxInFlight  int         // most requests in progress at once
	Pages        map[int]int // list requests per page number asked for
	PageSizes    map[int]int // list requests per page size asked for
}

func newEndpointStats() EndpointStats {
	return EndpointStats{Pages: map[int]int{}, PageSizes: map[int]int{}}
}

// clone copies s, maps included, for a caller to keep.
func (s EndpointStats) clone() EndpointStats {
	c := s
	c.Pages = make(map[int]int, len(s.Pages))
	for k, v := range s.Pages {
		c.Pages[k] = v
	}
	c.PageSizes = make(map[int]int, len(s.PageSizes))
	for k, v := range s.PageSizes {
		c.PageSizes[k] = v
	}
	return c
}

// count records one request of a list page (page > 0) or of usage, with
// inFlight requests in progress counting it.
func (s *EndpointStats) count(page, size, inFlight int) {
	s.Requests++
	if page != 0 {
		s.Pages[page]++
		s.PageSizes[size]++
	}
	s.MaxInFlight = max(s.MaxInFlight, inFlight)
}

// API is the fake's handler. Server wraps it in a listener; use API directly
// to serve it from a listener of your own (as cmd/vocode-fake-api does).
type API struct {
	key     string
	latency time.Duration
	maxSize map[string]int // by list endpoint
	total   TotalMode
	// totalOffset and totalValue bend `total`; see WithTotalOffset and
	// WithTotalValue.
	totalOffset int
	totalValue  json.RawMessage

	done       chan struct{} // closed by Close: releases hanging requests
	closeOne   sync.Once
	inFlight   atomic.Int64             // every endpoint
	inFlightAt map[string]*atomic.Int64 // by endpoint; fixed at NewAPI

	// The calls list: see WithCalls, WithCallTimeFormat, WithCallSort,
	// WithCallArrivals.
	pendingCalls []Call
	callsPastEnd int // see WithCallsPastEndStatus; 0 serves an empty page
	timeFormat   TimeFormat
	sortMode     SortMode
	nulls        NullsOrder
	arrivals     int
	// unstartedArrivals: see WithUnstartedArrivals.
	unstartedArrivals int
	arrived           atomic.Int64

	mu      sync.Mutex
	items   []json.RawMessage // connections, encoded once
	numbers []json.RawMessage // phone numbers, encoded once
	agents  []json.RawMessage // agents, encoded once
	usage   json.RawMessage
	calls   []servedCall // as an unsorted list holds them
	faults  []*fault
	hooks   map[string]func(page int) // by endpoint
	stats   Stats
	auths   map[string]struct{}
}

// NewAPI returns the fake's handler serving conns, and the numbers and
// usage that opts give.
func NewAPI(conns []Connection, opts ...Option) *API {
	a := &API{key: DefaultAPIKey, done: make(chan struct{}), maxSize: map[string]int{},
		hooks: map[string]func(int){}, inFlightAt: map[string]*atomic.Int64{}}
	for _, ep := range paths {
		a.inFlightAt[ep] = new(atomic.Int64)
	}
	a.SetUsage(Usage{Plan: "plan_developer"})
	for _, o := range opts {
		o(a)
	}
	a.SetConnections(conns)
	a.SetCalls(a.pendingCalls)
	a.pendingCalls = nil
	a.ResetStats()
	return a
}

// InFlight is the number of requests the fake is serving now, on every
// endpoint: 0 once clients let go of every request they made, a hanging
// one included.
func (a *API) InFlight() int { return int(a.inFlight.Load()) }

// SetConnections replaces the list the fake serves; safe while it serves.
func (a *API) SetConnections(conns []Connection) {
	items := encodeAll(conns)
	a.mu.Lock()
	a.items = items
	a.mu.Unlock()
}

// SetNumbers replaces the phone numbers the fake serves; safe while it
// serves.
func (a *API) SetNumbers(nums []Number) {
	items := encodeAll(nums)
	a.mu.Lock()
	a.numbers = items
	a.mu.Unlock()
}

// SetUsage replaces the usage the fake serves; safe while it serves.
func (a *API) SetUsage(u Usage) {
	b := u.encode()
	a.mu.Lock()
	a.usage = b
	a.mu.Unlock()
}

// MutateConnections edits the served list in place, e.g. from OnPage to make
// the list shift while a client walks it. f gets and returns encoded items.
func (a *API) MutateConnections(f func(items []json.RawMessage) []json.RawMessage) {
	a.mu.Lock()
	a.items = f(a.items)
	a.mu.Unlock()
}

// AddFault adds a fault; faults are tried in the order added, the first that
// matches a request decides its answer.
func (a *API) AddFault(f Fault) {
	a.mu.Lock()
	a.faults = append(a.faults, &fault{Fault: f})
	a.mu.Unlock()
}

// ClearFaults removes every fault.
func (a *API) ClearFaults() {
	a.mu.Lock()
	a.faults = nil
	a.mu.Unlock()
}

// OnPage sets a hook called before each page of the connection list is
// served (nil removes it); it is OnServe(EndpointConnections, f).
func (a *API) OnPage(f func(page int)) { a.OnServe(EndpointConnections, f) }

// OnServe sets a hook called before each answer of endpoint is served, once
// faults and validation have let it through, with the page asked for (0
// for usage); nil removes it. It runs outside the fake's lock, so it may
// call SetNumbers or MutateConnections.
func (a *API) OnServe(endpoint string, f func(page int)) {
	a.mu.Lock()
	a.hooks[endpoint] = f
	a.mu.Unlock()
}

// Stats returns a copy of the counters.
func (a *API) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Stats{Endpoints: make(map[string]EndpointStats, len(a.stats.Endpoints)), All: a.stats.All.clone()}
	for ep, es := range a.stats.Endpoints {
		s.Endpoints[ep] = es.clone()
	}
	s.EndpointStats = s.Endpoints[EndpointConnections]
	for k := range a.auths {
		s.Authorization = append(s.Authorization, k)
	}
	return s
}

// ResetStats zeroes the counters.
func (a *API) ResetStats() {
	a.mu.Lock()
	a.stats = Stats{Endpoints: map[string]EndpointStats{}, All: newEndpointStats()}
	for _, ep := range paths {
		a.stats.Endpoints[ep] = newEndpointStats()
	}
	a.auths = map[string]struct{}{}
	a.mu.Unlock()
}

// Close releases requests held by Hang faults; the API answers 503 after it.
func (a *API) Close() { a.closeOne.Do(func() { close(a.done) }) }

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, ok := paths[r.URL.Path]
	if !ok {
		writeDetail(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != http.MethodGet {
		writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	all := a.inFlight.Add(1)
	defer a.inFlight.Add(-1)
	at := a.inFlightAt[ep].Add(1)
	defer a.inFlightAt[ep].Add(-1)

	isList := ep != EndpointUsage
	page, pageOK, size, sizeOK := 0, true, 0, true
	if isList {
		page, pageOK = queryInt(r, "page", 1)
		size, sizeOK = queryInt(r, "size", 10)
	}
	f, hook := a.record(r, ep, page, size, int(at), int(all))

	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		a.countUnauthorized(ep)
		writeDetail(w, http.StatusForbidden, "Not authenticated")
		return
	case auth != "Bearer "+a.key:
		a.countUnauthorized(ep)
		writeDetail(w, http.StatusUnauthorized, "Invalid API key")
		return
	}
	if !a.wait(r.Context(), a.latency) {
		return
	}
	if f != nil && !a.applyFault(w, r, f) {
		return
	}
	if isList {
		maxSize := a.maxSize[ep]
		switch {
		case !pageOK:
			writeValidation(w, "page", notAnInteger)
			return
		case !sizeOK:
			writeValidation(w, "size", notAnInteger)
			return
		case page < 1:
			writeValidation(w, "page", "Input should be greater than or equal to 1")
			return
		case size < 1 || (maxSize > 0 && size > maxSize):
			writeValidation(w, "size", fmt.Sprintf("Input should be less than or equal to %d", max(maxSize, 1)))
			return
		}
	}
	var sort callSort
	if ep == EndpointCalls {
		var named bool
		sort, named = sortAsked(r)
		a.mu.Lock()
		rejected := named && a.sortMode == SortRejected
		a.mu.Unlock()
		if rejected {
			writeValidation(w, "sort_column", "Input should be one of the sortable columns")
			return
		}
	}
	if hook != nil {
		hook(page)
	}
	w.Header().Set("Content-Type", "application/json")
	if ep == EndpointCalls {
		a.arrive()
		a.mu.Lock()
		pastEnd := a.callsPastEnd != 0 && page > 1 && (page-1)*size >= len(a.calls)
		a.mu.Unlock()
		if pastEnd {
			writeDetail(w, a.callsPastEnd, http.StatusText(a.callsPastEnd))
			return
		}
		_, _ = w.Write(a.callsBody(page, size, sort))
		return
	}
	_, _ = w.Write(a.body(ep, page, size))
}

// record counts the request and picks the fault that applies, if any.
func (a *API) record(r *http.Request, ep string, page, size, inFlight, allInFlight int) (*fault, func(int)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	es := a.stats.Endpoints[ep]
	es.count(page, size, inFlight)
	a.stats.Endpoints[ep] = es
	a.stats.All.count(page, size, allInFlight)
	if h := r.Header.Get("Authorization"); h != "" {
		a.auths[h] = struct{}{}
	}
	for _, f := range a.faults {
		if !f.applies(ep) || (f.Page != 0 && f.Page != page) || (f.Times > 0 && f.used >= f.Times) {
			continue
		}
		if f.Rate > 0 && rand.Float64() >= f.Rate {
			continue
		}
		f.used++
		return f, a.hooks[ep]
	}
	return nil, a.hooks[ep]
}

// applies reports whether the fault is meant for endpoint ep.
func (f *fault) applies(ep string) bool {
	switch f.Endpoint {
	case AnyEndpoint:
		return true
	case "":
		return ep == EndpointConnections
	}
	return f.Endpoint == ep
}

func (a *API) countUnauthorized(ep string) {
	a.mu.Lock()
	es := a.stats.Endpoints[ep]
	es.Unauthorized++
	a.stats.Endpoints[ep] = es
	a.stats.All.Unauthorized++
	a.mu.Unlock()
}

// applyFault answers with f, or returns true to go on and serve the page.
func (a *API) applyFault(w http.ResponseWriter, r *http.Request, f *fault) bool {
	if !a.wait(r.Context(), f.Delay) {
		return false
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-a.done:
		}
		return false
	}
	if f.Handler != nil {
		f.Handler(w, r)
		return false
	}
	if f.Status == 0 {
		return true
	}
	for k, vs := range f.Header {
		w.Header()[k] = vs
	}
	body := f.Body
	if body == "" {
		body = fmt.Sprintf(`{"detail":%q}`, http.StatusText(f.Status))
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
	return false
}

// wait sleeps for d unless the client leaves or the fake closes first.
func (a *API) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-a.done:
	}
	return false
}

// body encodes the answer of endpoint ep.
func (a *API) body(ep string, page, size int) []byte {
	a.mu.Lock()
	items, numbers, agents, usage := a.items, a.numbers, a.agents, a.usage
	a.mu.Unlock()
	switch ep {
	case EndpointNumbers:
		return a.pageBody(numbers, page, size)
	case EndpointAgents:
		return a.pageBody(agents, page, size)
	case EndpointUsage:
		return usage
	}
	return a.pageBody(items, page, size)
}

// pageBody encodes one page the way the API does: offset paging over the
// current list, so a list that changes mid-walk shifts under the client.
func (a *API) pageBody(items []json.RawMessage, page, size int) []byte {
	start := min((page-1)*size, len(items))
	end := min(start+size, len(items))

	buf := make([]byte, 0, 128+(end-start)*256)
	buf = append(buf, `{"items":[`...)
	for i, it := range items[start:end] {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, it...)
	}
	buf = append(buf, `],"page":`...)
	buf = strconv.AppendInt(buf, int64(page), 10)
	buf = append(buf, `,"size":`...)
	buf = strconv.AppendInt(buf, int64(size), 10)
	buf = append(buf, `,"has_more":`...)
	buf = strconv.AppendBool(buf, end < len(items))
	switch {
	case a.totalValue != nil:
		buf = append(buf, `,"total":`...)
		buf = append(buf, a.totalValue...)
		buf = append(buf, `,"total_is_estimated":false`...)
	case a.total == TotalExact, a.total == TotalEstimated:
		buf = append(buf, `,"total":`...)
		buf = strconv.AppendInt(buf, int64(len(items)+a.totalOffset), 10)
		buf = append(buf, `,"total_is_estimated":`...)
		buf = strconv.AppendBool(buf, a.total == TotalEstimated)
	}
	return append(buf, '}')
}

// notAnInteger is FastAPI's message for a query parameter that is no integer.
const notAnInteger = "Input should be a valid integer, unable to parse string as an integer"

func queryInt(r *http.Request, name string, def int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// writeValidation answers a 422 the way FastAPI does.
func writeValidation(w http.ResponseWriter, param, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(w).Encode(map[string]any{"detail": []map[string]any{{
		"loc": []any{"query", param}, "msg": msg, "type": "value_error",
	}}})
}

func (c Connection) encode() json.RawMessage {
	if c.Raw != nil {
		return c.Raw
	}
	m := map[string]any{"id": c.ID, "user_id": userID, "type": c.Type, "credentials": c.Credentials}
	switch {
	case c.NullSteeringPool:
		m["steering_pool"] = nil
	case c.SteeringPool != nil:
		m["steering_pool"] = c.SteeringPool
	}
	if c.AnyCallerID != nil {
		m["account_supports_any_caller_id"] = *c.AnyCallerID
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // only strings, bools and string maps: cannot fail
	}
	return b
}
