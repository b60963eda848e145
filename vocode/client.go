// Package vocode is a client for the parts of Vocode's Hosted API the
// exporter reads: the paginated lists of account connections and of phone
// numbers, and the account's usage.
package vocode

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultPageSize     = 100
	MinPageSize         = 10
	DefaultConcurrency  = 4
	DefaultMaxBodyBytes = 32 << 20
	DefaultRetries      = 2
	DefaultBackoff      = 250 * time.Millisecond

	// Safety nets of NewTransport, under the context every request carries.
	// The header timeout is longer than the default walk deadline (30s), so
	// that it never decides a walk a deadline bounds, and short enough that
	// a connection whose answer never starts is closed within a minute.
	ResponseHeaderTimeout = time.Minute
	DialTimeout           = 10 * time.Second
	TLSHandshakeTimeout   = 10 * time.Second
	KeepAlive             = 30 * time.Second

	connectionsPath = "/v1/account_connections/list"
	numbersPath     = "/v1/numbers/list"
	usagePath       = "/v1/usage"
)

// The values of the `endpoint` label, one for each endpoint the client
// reads; RequestObserver and Error.Endpoint name endpoints this way.
const (
	EndpointList    = "account_connections_list"
	EndpointNumbers = "numbers_list"
	EndpointUsage   = "usage"
)

// RequestObserver is told about every HTTP request the client makes: code is
// the status code, or "error" when no response came.
type RequestObserver func(endpoint, code string, d time.Duration)

// Options tune a Client. The zero value is usable.
type Options struct {
	PageSize int // page size to ask for first; halved on a 422 naming `size`
	// NumbersPageSize is PageSize for the numbers list, which learns its
	// own; 0 means PageSize.
	NumbersPageSize int
	// Concurrency is the most requests in flight at once for the client's
	// account, across every endpoint it calls: the connection and numbers
	// walks, usage, and whatever endpoint comes next share it.
	Concurrency  int
	MaxBodyBytes int64
	Retries      int           // retries of 429, 5xx and transport errors; negative disables
	Backoff      time.Duration // first retry delay, doubled each time
	// MaxRetryAfter caps how long a Retry-After is honoured when the context
	// has no deadline.
	MaxRetryAfter time.Duration
	Transport     http.RoundTripper // nil: NewTransport(the options)
	// Budget, when set, bounds the requests in flight across every client
	// that shares it; Concurrency still bounds each client's own. A
	// request takes its client's slot first and the budget's second, so
	// that an account at its own limit holds no budget slot while it
	// waits, and other accounts get them.
	Budget    *Budget
	UserAgent string
	Observer  RequestObserver
	Logger    *slog.Logger

	// CallsPageSize is PageSize for the calls list, which learns its own;
	// 0 means PageSize.
	CallsPageSize int
	// AgentsPageSize is PageSize for the agents list, which learns its
	// own; 0 means PageSize.
	AgentsPageSize int
	// CallsLearned is what a client this one replaces learned of the calls
	// list's order, so that a key rotation does not forget it.
	CallsLearned CallsLearned
}

// Client reads one Vocode account. It is safe for concurrent use.
type Client struct {
	base *url.URL
	key  string // only ever written into the Authorization header
	http *http.Client
	opts Options
	// slots bounds this account's requests in flight to Concurrency, in
	// the one request path every endpoint takes; FIFO, as the budget.
	slots *slots
	bufs  sync.Pool // *bytes.Buffer for response bodies
	// One for each list the client walks, each with the page size it has
	// learned.
	connections list[Connection]
	numbers     list[Number]
	agents      list[Agent]
	calls       list[Call]
	// callsOrder: whether the API honours the calls list's sort, so that
	// walks ask for it and rely on it.
	callsOrder callsOrder
}

// New returns a client for the API at baseURL, authenticated with apiKey.
func New(baseURL, apiKey string, opts Options) (*Client, error) {
	base, err := ParseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if apiKey == "" {
		return nil, errors.New("empty API key")
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.PageSize < MinPageSize {
		opts.PageSize = MinPageSize
	}
	if opts.NumbersPageSize <= 0 {
		opts.NumbersPageSize = opts.PageSize
	}
	if opts.NumbersPageSize < MinPageSize {
		opts.NumbersPageSize = MinPageSize
	}
	if opts.AgentsPageSize <= 0 {
		opts.AgentsPageSize = opts.PageSize
	}
	if opts.AgentsPageSize < MinPageSize {
		opts.AgentsPageSize = MinPageSize
	}
	if opts.CallsPageSize <= 0 {
		opts.CallsPageSize = opts.PageSize
	}
	if opts.CallsPageSize < MinPageSize {
		opts.CallsPageSize = MinPageSize
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Retries == 0 {
		opts.Retries = DefaultRetries
	} else if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = time.Minute
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "vocode_exporter"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	transport := opts.Transport
	if transport == nil {
		transport = NewTransport(opts)
	}
	c := &Client{base: base, key: apiKey, opts: opts, slots: newSlots(opts.Concurrency)}
	c.http = &http.Client{Transport: transport, CheckRedirect: c.checkRedirect}
	c.connections = list[Connection]{endpoint: EndpointList, path: connectionsPath, noun: "connection", decode: decodePage}
	c.connections.pageSize.Store(int64(opts.PageSize))
	c.numbers = list[Number]{endpoint: EndpointNumbers, path: numbersPath, noun: "number", decode: decodeNumbersPage}
	c.numbers.pageSize.Store(int64(opts.NumbersPageSize))
	c.agents = list[Agent]{endpoint: EndpointAgents, path: agentsPath, noun: "agent", decode: decodeAgentsPage}
	c.agents.pageSize.Store(int64(opts.AgentsPageSize))
	c.calls = list[Call]{endpoint: EndpointCalls, path: callsPath, noun: "call", decode: decodeCallsPage, tooLargeShrinks: true}
	c.calls.pageSize.Store(int64(opts.CallsPageSize))
	c.callsOrder.learned = opts.CallsLearned
	return c, nil
}

// NewTransport returns the HTTP transport for clients made with opts, to
// give to several of them (as Options.Transport) or, by New, to one. It
// keeps as many idle connections per host as may be in flight at once: the
// budget's limit when opts has one (a shared transport serves every client
// of the budget), else the concurrency of one client.
//
// Its timeouts are safety nets under the context every request carries: a
// dial that gets no answer, a TLS handshake that stalls, or an answer whose
// headers never come end with a timeout error and a closed connection even
// if a context without a deadline ever reached a request. TCP keep-alive
// finds a peer that vanished from a connection kept for reuse. None of them
// bounds a body that starts and then stalls: the context does.
func NewTransport(opts Options) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: DialTimeout, KeepAlive: KeepAlive}
	t.DialContext = dialer.DialContext
	t.TLSHandshakeTimeout = TLSHandshakeTimeout
	t.ResponseHeaderTimeout = ResponseHeaderTimeout
	t.MaxIdleConnsPerHost = max(opts.Concurrency, DefaultConcurrency) + 1
	if opts.Budget != nil {
		t.MaxIdleConnsPerHost = opts.Budget.Limit() + 1
	}
	return t
}

// ParseBaseURL checks an API base URL: https, or http for a loopback host
// only, since plain HTTP elsewhere would send the key in clear.
func ParseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only
		// what is wrong with it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid API URL: %w", err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid API URL %q: no host", u.Redacted())
	}
	if u.User != nil {
		return nil, errors.New("invalid API URL: it must not carry user information")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("refusing plain http:// API URL for non-loopback host %q: the API key would travel in clear; use https://", u.Hostname())
		}
	default:
		return nil, fmt.Errorf("invalid API URL %q: scheme must be https (or http for a loopback host)", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the client without its key, for logs and %v.
func (c *Client) String() string { return "vocode.Client(" + c.base.String() + ")" }

// GoString keeps %#v from printing the key.
func (c *Client) GoString() string { return c.String() }

// LogValue keeps slog from reflecting over the client's fields.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// URL is the API base URL.
func (c *Client) URL() string { return c.base.String() }

// CloseIdleConnections closes the client's idle keep-alive connections; for
// a client that is being replaced, and for tests that check for leaks.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// PageSize is the page size the client currently asks the connection list
// for.
func (c *Client) PageSize() int { return int(c.connections.pageSize.Load()) }

// NumbersPageSize is the page size the client currently asks the numbers
// list for.
func (c *Client) NumbersPageSize() int { return int(c.numbers.pageSize.Load()) }

// checkRedirect follows redirects on the API's own scheme and host only: the
// key must never reach anyone but the configured API, and a 3xx to elsewhere
// is reported as an error instead.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != c.base.Scheme || req.URL.Host != c.base.Host || len(via) >= 5 {
		return http.ErrUseLastResponse
	}
	return nil
}

// errPageSizeRejected marks a 422 whose detail names the size parameter,
// errSortRejected one that names a sort parameter.
var (
	errPageSizeRejected = errors.New("page size rejected")
	errSortRejected     = errors.New("sort rejected")
)

// rejectedParameter tells which parameter of ours a 422 refused, from the
// names in its detail, or nil. A refused sort comes first: without the sort
// the size may well pass, and the walk retries the size anyway.
func rejectedParameter(named []string) error {
	var size bool
	for _, n := range named {
		switch n {
		case "sort_column", "sort_desc":
			return errSortRejected
		case "size":
			size = true
		}
	}
	if size {
		return errPageSizeRejected
	}
	return nil
}

// errBodyTooLarge is returned by the body reader once the limit is passed.
var errBodyTooLarge = errors.New("response body too large")

// request is one call of the API: the endpoint it counts under, its path,
// and for a list, the page and size asked for.
type request struct {
	endpoint string
	path     string
	page     int // 0 for an endpoint that is not a list
	size     int
	query    string // more query parameters, encoded
}

// ListPage fetches one page of the connection list, retrying 429, 5xx and
// transport errors.
func (c *Client) ListPage(ctx context.Context, page, size int) (*Page, error) {
	return listPage(ctx, c, &c.connections, page, size)
}

// fetch returns the body of r's 200 answer, read whole, retrying 429,
// 5xx and transport errors. Fetching apart from decoding lets a walk give
// its request slot to the next page while this one is decoded.
func (c *Client) fetch(ctx context.Context, r request) (*bytes.Buffer, error) {
	for attempt := 0; ; attempt++ {
		body, retryAfter, err := c.fetchOnce(ctx, r)
		if err == nil {
			return body, nil
		}
		if attempt >= c.opts.Retries || !retryable(err) || ctx.Err() != nil {
			return nil, err
		}
		wait := c.opts.Backoff << attempt
		// Jitter keeps accounts that failed together from retrying in step.
		wait += rand.N(wait/2 + 1)
		if retryAfter > 0 {
			wait = retryAfter
		}
		if !c.fits(ctx, wait) {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// fits reports whether waiting d still leaves time for a request.
func (c *Client) fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	if !ok {
		return d <= c.opts.MaxRetryAfter
	}
	return time.Until(deadline) > d
}

func retryable(err error) bool {
	switch ReasonOf(err) {
	case ReasonRateLimited, ReasonServerError:
		return true
	case ReasonTransport:
		return !permanent(err)
	}
	return false
}

// permanent reports transport failures that a retry a moment later cannot
// cure: a certificate that does not verify, a name that does not exist.
func permanent(err error) bool {
	var certErr *tls.CertificateVerificationError
	var dnsErr *net.DNSError
	return errors.As(err, &certErr) || (errors.As(err, &dnsErr) && dnsErr.IsNotFound)
}

func (c *Client) fetchOnce(ctx context.Context, r request) (*bytes.Buffer, time.Duration, error) {
	u := *c.base
	u.Path += r.path
	if r.page > 0 {
		u.RawQuery = "page=" + strconv.Itoa(r.page) + "&size=" + strconv.Itoa(r.size)
	}
	if r.query != "" {
		u.RawQuery += "&" + r.query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, &Error{Reason: ReasonClientError, Endpoint: r.endpoint, Page: r.page, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)

	release, err := c.acquire(ctx, r)
	if err != nil {
		return nil, 0, err
	}
	// The slots are held until the body is read or dropped: that is when
	// the request stops costing the API anything.
	defer release()
	// Latency starts once the request may go: the wait for a slot is the
	// exporter's, not the API's.
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observe(r.endpoint, "error", time.Since(start))
		return nil, 0, &Error{Reason: classifyTransport(err), Endpoint: r.endpoint, Page: r.page, Err: c.redact(err)}
	}
	defer func() {
		// Drain a little so the connection can be reused; a large rest is
		// cheaper to drop with the connection.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()

	if resp.StatusCode != http.StatusOK {
		err := c.statusError(resp, r)
		c.observe(r.endpoint, strconv.Itoa(resp.StatusCode), time.Since(start))
		return nil, retryAfter(resp.Header.Get("Retry-After")), err
	}
	body, err := c.readBody(resp, r)
	c.observe(r.endpoint, "200", time.Since(start))
	return body, 0, err
}

// acquire takes one of the account's request slots, then one of the
// budget's, and returns the function that gives both back. In that order,
// an account waiting on its own limit holds no budget slot meanwhile.
func (c *Client) acquire(ctx context.Context, r request) (release func(), err error) {
	if _, err := c.slots.acquire(ctx); err != nil {
		return nil, &Error{Reason: ReasonTimeout, Endpoint: r.endpoint, Page: r.page,
			Detail: "waiting for one of the account's request slots", Err: err}
	}
	releaseBudget, err := c.opts.Budget.acquire(ctx)
	if err != nil {
		c.slots.release()
		return nil, &Error{Reason: ReasonTimeout, Endpoint: r.endpoint, Page: r.page,
			Detail: "waiting for a slot of the request budget", Err: err}
	}
	return func() {
		releaseBudget()
		c.slots.release()
	}, nil
}

func (c *Client) observe(endpoint, code string, d time.Duration) {
	if c.opts.Observer != nil {
		c.opts.Observer(endpoint, code, d)
	}
}

// readBody reads a 200 answer's body into a pooled buffer, refusing one over
// MaxBodyBytes as soon as it is known to be: from Content-Length, or once
// the limit has been read.
func (c *Client) readBody(resp *http.Response, r request) (*bytes.Buffer, error) {
	limit := c.opts.MaxBodyBytes
	if resp.ContentLength > limit {
		return nil, &Error{Reason: ReasonTooLarge, Endpoint: r.endpoint, Page: r.page, Status: resp.StatusCode,
			Detail: fmt.Sprintf("Content-Length %d exceeds the %d byte limit", resp.ContentLength, limit)}
	}
	buf, _ := c.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + bytes.MinRead) // room to see EOF without regrowing
	}
	body := &limitedBody{r: resp.Body, left: limit}
	if _, err := buf.ReadFrom(body); err != nil {
		c.release(buf)
		if errors.Is(err, errBodyTooLarge) {
			return nil, &Error{Reason: ReasonTooLarge, Endpoint: r.endpoint, Page: r.page, Status: resp.StatusCode,
				Detail: fmt.Sprintf("body exceeds the %d byte limit", limit)}
		}
		// The body broke off (reset, deadline): a transport problem, not
		// a malformed page, so it is retried like one.
		return nil, &Error{Reason: classifyTransport(err), Endpoint: r.endpoint, Page: r.page, Status: resp.StatusCode,
			Detail: "reading body", Err: c.redact(err)}
	}
	return buf, nil
}

// release returns a body buffer to the pool; decoding copies what it keeps,
// so the bytes may be reused. Outsized buffers are left to the collector.
func (c *Client) release(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 {
		c.bufs.Put(buf)
	}
}

// statusError classifies a non-200 response and extracts a short, redacted
// detail from its body.
func (c *Client) statusError(resp *http.Response, r request) error {
	e := &Error{Endpoint: r.endpoint, Page: r.page, Status: resp.StatusCode}
	detail, named := errorDetail(io.LimitReader(resp.Body, 16<<10))
	e.Detail = clip(c.redactString(detail))
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Reason = ReasonAuth
	case code == http.StatusTooManyRequests:
		e.Reason = ReasonRateLimited
	case code >= 500:
		e.Reason = ReasonServerError
	case code >= 300 && code < 400:
		e.Reason = ReasonClientError
		e.Detail = c.redirectDetail(resp)
	default:
		e.Reason = ReasonClientError
		if code == http.StatusUnprocessableEntity {
			e.Err = rejectedParameter(named)
		}
	}
	return e
}

// redirectDetail says why a redirect was not followed. Naming the host it
// leads to helps find a proxy or URL that is wrong; its path and query are
// left out, as they can carry a token.
func (c *Client) redirectDetail(resp *http.Response) string {
	const prefix = "redirect not followed: "
	target, err := resp.Location()
	switch {
	case errors.Is(err, http.ErrNoLocation):
		return prefix + "it names no target"
	case err != nil:
		return prefix + "its target is not a valid URL"
	case target.Scheme == c.base.Scheme && target.Host == c.base.Host:
		// checkRedirect follows these, up to a limit.
		return prefix + "too many redirects on the API's own host"
	}
	return prefix + "it leads away from the configured API, to " +
		clip(c.redactString(target.Scheme+"://"+target.Host))
}

// redact removes the API key and credential-shaped text from an error's
// text. Transport errors quote the URL, which holds no key, and the words
// of whatever answered, which might hold anything. The error's chain is
// kept so that errors.Is and errors.As still classify it.
func (c *Client) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if safe := c.redactString(msg); safe != msg {
		return &redactedError{msg: safe, err: err}
	}
	return err
}

// redactString is Redact, after the API key, which need not look like a
// credential, is replaced with a marker of its own.
func (c *Client) redactString(s string) string {
	return Redact(strings.ReplaceAll(s, c.key, "<secret>"))
}

// redactedError is an error shown with a redacted text. Unwrap still gives
// the original, for classification only: printing it would bypass the
// redaction, and nothing in this module does.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// limitedBody reads at most left bytes, then fails with errBodyTooLarge if
// more would follow.
type limitedBody struct {
	r    io.Reader
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte: a body of exactly the limit is still fine.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
