// Package vocodetest is a fake of Vocode's Hosted API for tests, shaped like
// net/http/httptest: NewServer starts one on a loopback port and tests point
// the exporter at its URL. It serves GET /v1/account_connections/list from a
// data set of any size and injects faults on demand.
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

// WithMaxPageSize makes the fake answer 422 naming `size` to larger pages.
func WithMaxPageSize(n int) Option { return func(a *API) { a.maxSize = n } }

// WithTotal sets how the fake reports `total`.
func WithTotal(m TotalMode) Option { return func(a *API) { a.total = m } }

// WithTotalOffset makes the fake's `total` miss the list's length by n: more
// than there are for n > 0, as an API whose count lags behind deletions.
// It applies to TotalExact and TotalEstimated.
func WithTotalOffset(n int) Option { return func(a *API) { a.totalOffset = n } }

// WithTotalValue makes the fake serve v verbatim as `total` (-1, 2.5, "7",
// null, ...), with total_is_estimated false, whatever WithTotal says.
// v must be valid JSON.
func WithTotalValue(v json.RawMessage) Option {
	return func(a *API) { a.totalValue = append(json.RawMessage(nil), v...) }
}

// Fault changes the answer to matching requests. Status, Body and Header
// answer instead of the page; Handler takes over completely; Delay and Hang
// hold the answer back. With none of those set, only Delay applies.
type Fault struct {
	Page  int     // the page it applies to; 0 for every page
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
type Stats struct {
	Requests      int         // every request to the list endpoint
	Unauthorized  int         // requests turned away for a missing or wrong key
	MaxInFlight   int         // most requests in progress at once
	Pages         map[int]int // requests per page number asked for
	PageSizes     map[int]int // requests per page size asked for
	Authorization []string    // distinct Authorization headers received
}

// API is the fake's handler. Server wraps it in a listener; use API directly
// to serve it from a listener of your own (as cmd/vocode-fake-api does).
type API struct {
	key     string
	latency time.Duration
	maxSize int
	total   TotalMode
	// totalOffset and totalValue bend `total`; see WithTotalOffset and
	// WithTotalValue.
	totalOffset int
	totalValue  json.RawMessage

	done     chan struct{} // closed by Close: releases hanging requests
	closeOne sync.Once
	inFlight atomic.Int64

	mu     sync.Mutex
	items  []json.RawMessage // connections, encoded once
	faults []*fault
	onPage func(page int)
	stats  Stats
	auths  map[string]struct{}
}

// NewAPI returns the fake's handler serving conns.
func NewAPI(conns []Connection, opts ...Option) *API {
	a := &API{key: DefaultAPIKey, done: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	a.SetConnections(conns)
	a.ResetStats()
	return a
}

// SetConnections replaces the list the fake serves; safe while it serves.
func (a *API) SetConnections(conns []Connection) {
	items := make([]json.RawMessage, len(conns))
	for i, c := range conns {
		items[i] = c.encode()
	}
	a.mu.Lock()
	a.items = items
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

// OnPage sets a hook called before each page is served (nil removes it).
// It runs outside the fake's lock, so it may call MutateConnections.
func (a *API) OnPage(f func(page int)) {
	a.mu.Lock()
	a.onPage = f
	a.mu.Unlock()
}

// Stats returns a copy of the counters.
func (a *API) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.Pages = make(map[int]int, len(a.stats.Pages))
	for k, v := range a.stats.Pages {
		s.Pages[k] = v
	}
	s.PageSizes = make(map[int]int, len(a.stats.PageSizes))
	for k, v := range a.stats.PageSizes {
		s.PageSizes[k] = v
	}
	s.Authorization = nil
	for k := range a.auths {
		s.Authorization = append(s.Authorization, k)
	}
	return s
}

// ResetStats zeroes the counters.
func (a *API) ResetStats() {
	a.mu.Lock()
	a.stats = Stats{Pages: map[int]int{}, PageSizes: map[int]int{}}
	a.auths = map[string]struct{}{}
	a.mu.Unlock()
}

// Close releases requests held by Hang faults; the API answers 503 after it.
func (a *API) Close() { a.closeOne.Do(func() { close(a.done) }) }

const listPath = "/v1/account_connections/list"

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != listPath {
		writeDetail(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != http.MethodGet {
		writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	n := a.inFlight.Add(1)
	defer a.inFlight.Add(-1)

	page, pageOK := queryInt(r, "page", 1)
	size, sizeOK := queryInt(r, "size", 10)
	f, hook := a.record(r, page, size, int(n))

	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		a.countUnauthorized()
		writeDetail(w, http.StatusForbidden, "Not authenticated")
		return
	case auth != "Bearer "+a.key:
		a.countUnauthorized()
		writeDetail(w, http.StatusUnauthorized, "Invalid API key")
		return
	}
	if !a.wait(r.Context(), a.latency) {
		return
	}
	if f != nil && !a.applyFault(w, r, f) {
		return
	}
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
	case size < 1 || (a.maxSize > 0 && size > a.maxSize):
		writeValidation(w, "size", fmt.Sprintf("Input should be less than or equal to %d", max(a.maxSize, 1)))
		return
	}
	if hook != nil {
		hook(page)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.pageBody(page, size))
}

// record counts the request and picks the fault that applies, if any.
func (a *API) record(r *http.Request, page, size, inFlight int) (*fault, func(int)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Requests++
	a.stats.Pages[page]++
	a.stats.PageSizes[size]++
	a.stats.MaxInFlight = max(a.stats.MaxInFlight, inFlight)
	if h := r.Header.Get("Authorization"); h != "" {
		a.auths[h] = struct{}{}
	}
	for _, f := range a.faults {
		if (f.Page != 0 && f.Page != page) || (f.Times > 0 && f.used >= f.Times) {
			continue
		}
		if f.Rate > 0 && rand.Float64() >= f.Rate {
			continue
		}
		f.used++
		return f, a.onPage
	}
	return nil, a.onPage
}

func (a *API) countUnauthorized() {
	a.mu.Lock()
	a.stats.Unauthorized++
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

// pageBody encodes one page the way the API does: offset paging over the
// current list, so a list that changes mid-walk shifts under the client.
func (a *API) pageBody(page, size int) []byte {
	a.mu.Lock()
	items := a.items
	a.mu.Unlock()
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
	m := map[string]any{
		"id": c.ID, "user_id": "00000000-0000-4000-8000-000000000001",
		"type": c.Type, "credentials": c.Credentials,
	}
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
