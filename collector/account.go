package collector

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// walkGrace is how long a scrape whose deadline is also its walk's deadline
// still waits for the walk: a walk ends a few milliseconds after its
// deadline, and its own error says more than "the scrape gave up".
const walkGrace = 100 * time.Millisecond

// errAccountRemoved ends the walks of an account a reload removed.
var errAccountRemoved = errors.New("account removed from the configuration")

// Account is one configured Vocode account, from the configuration load that
// adds it to the one that removes it: reloads that keep its name keep the
// Account, and with it its counters, its walk in flight and what it knows of
// an ongoing failure.
//
// Scrapes that arrive while a walk of the account runs share that walk, so
// the API sees requests grow with walks and not with scrapers. A scrape that
// joins moves the walk's deadline to its own if that is later (the walk is
// extended, not restarted). A walk begun with an API URL or key that a
// reload has since replaced is not shared: the next scrape starts a walk with
// the new ones.
type Account struct {
	name    string
	metrics *accountMetrics
	logger  *slog.Logger
	// ctx ends when the account is removed or the exporter stops: walks
	// outlive the scrape that started them (others may share them), but
	// not the account.
	ctx    context.Context
	cancel context.CancelCauseFunc

	collectors Collectors // which parts besides the connection list a walk reads

	mu     sync.Mutex
	cfg    config.Account // the configuration the client was built from
	client *vocode.Client
	walk   *walk // the walk in flight, if any
	// lastReason is, per collector, the reason of its last failure, or ""
	// after a success: what the log has said already.
	lastReason map[string]vocode.Reason
	lastWalk   *WalkStatus // the last walk that ended
}

// The collectors of an account, the `collector` label: the connection list
// (always read; vocode_up is its success), usage, and the numbers list.
const (
	CollectorConnections = "connections"
	CollectorUsage       = "usage"
	CollectorNumbers     = "numbers"
)

// Collectors say which parts of the API a walk reads besides the connection
// list (--[no-]collector.usage, --[no-]collector.numbers).
type Collectors struct {
	Usage   bool
	Numbers bool
}

// names lists the enabled collectors, connections first.
func (c Collectors) names() []string {
	names := []string{CollectorConnections}
	if c.Usage {
		names = append(names, CollectorUsage)
	}
	if c.Numbers {
		names = append(names, CollectorNumbers)
	}
	return names
}

// WalkStatus describes a walk that ended, for the status page. It holds
// nothing the API sent but counts and a classification: no key, credential
// or error text can reach a page through it.
type WalkStatus struct {
	Ended    time.Time
	Duration time.Duration
	Pages    int
	// Reason is why the walk failed, "" if it succeeded; Status is the
	// HTTP status of the failed request, 0 when none came.
	Reason vocode.Reason
	Status int
	// Connections counts a successful walk's connections by type
	// ("twilio", "openai", ...).
	Connections map[string]int
	// Failed holds the reason of each other collector (usage, numbers)
	// that failed in this walk.
	Failed map[string]vocode.Reason
}

// Outcome is what one scrape of an account got from each collector. The
// collectors succeed or fail apart: a failed usage request never touches
// vocode_up or the connection series, and a failed connection walk never
// hides the numbers.
type Outcome struct {
	Connections Part[*vocode.Result]
	Usage       Part[*vocode.Usage]
	Numbers     Part[*vocode.NumberList]
}

// Part is one collector's share of an outcome: its result, or why there is
// none. Ran is false for a collector that is turned off.
type Part[T any] struct {
	Ran      bool
	Value    T
	Err      error
	Duration time.Duration
}

// errors lists the error of each collector that ran, by collector name.
func (o Outcome) errors() map[string]error {
	errs := map[string]error{CollectorConnections: o.Connections.Err}
	if o.Usage.Ran {
		errs[CollectorUsage] = o.Usage.Err
	}
	if o.Numbers.Ran {
		errs[CollectorNumbers] = o.Numbers.Err
	}
	return errs
}

// timed runs one collector's request.
func timed[T any](f func() (T, error)) Part[T] {
	start := time.Now()
	v, err := f()
	return Part[T]{Ran: true, Value: v, Err: err, Duration: time.Since(start)}
}

// walk is one walk of an account's list, shared by the scrapes that join it.
type walk struct {
	client  *vocode.Client
	ctx     *walkContext
	done    chan struct{}
	outcome Outcome // set before done is closed
}

func newAccount(base context.Context, cfg config.Account, collectors Collectors, logger *slog.Logger) *Account {
	ctx, cancel := context.WithCancelCause(base)
	return &Account{
		name: cfg.Name, metrics: newAccountMetrics(cfg.Name, collectors), cfg: cfg, collectors: collectors,
		logger: logger.With("account", cfg.Name), ctx: ctx, cancel: cancel,
		lastReason: map[string]vocode.Reason{},
	}
}

// Expected returns the least number of connections of each type the
// configuration expects, nil when none.
func (a *Account) Expected() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg.Expected
}

// Name is the account's name, the `account` label.
func (a *Account) Name() string { return a.name }

// Client is the API client of the account's current configuration.
func (a *Account) Client() *vocode.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.client
}

// sameAPI reports whether cfg reaches the API as the account does now: same
// URL and key. Keys are compared in constant time, out of habit with secrets.
func (a *Account) sameAPI(cfg config.Account) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg.URL == cfg.URL && subtle.ConstantTimeCompare([]byte(a.cfg.Key()), []byte(cfg.Key())) == 1
}

// use applies cfg to the account, with client, built from cfg, as its new
// client; a nil client keeps the current one (cfg reaches the API as before).
// A walk in flight finishes on the client it started with, for the scrapes
// already sharing it.
func (a *Account) use(cfg config.Account, client *vocode.Client) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg = cfg
	if client != nil {
		a.client = client
	}
}

// close ends the account: its walk in flight is cancelled.
func (a *Account) close() { a.cancel(errAccountRemoved) }

// Scrape returns the outcome of a walk of the account's list that ends
// within ctx: a new walk, or the one in flight. The outcome is counted and
// logged once for this scrape.
func (a *Account) Scrape(ctx context.Context) Outcome {
	start := time.Now()
	w := a.join(ctx)
	o, ok := w.wait(ctx)
	if !ok {
		o = a.gaveUp(ctx, time.Since(start))
	}
	a.report(o)
	return o
}

// gaveUp is the outcome of a scrape whose deadline passed before the walk
// it shares ended: a timeout for every collector.
func (a *Account) gaveUp(ctx context.Context, waited time.Duration) Outcome {
	timeout := func(endpoint string) error {
		return &vocode.Error{Reason: vocode.ReasonTimeout, Endpoint: endpoint,
			Detail: "the scrape's deadline passed before the walk it shares ended", Err: ctx.Err()}
	}
	o := Outcome{Connections: Part[*vocode.Result]{Ran: true, Err: timeout(vocode.EndpointList), Duration: waited}}
	if a.collectors.Usage {
		o.Usage = Part[*vocode.Usage]{Ran: true, Err: timeout(vocode.EndpointUsage), Duration: waited}
	}
	if a.collectors.Numbers {
		o.Numbers = Part[*vocode.NumberList]{Ran: true, Err: timeout(vocode.EndpointNumbers), Duration: waited}
	}
	return o
}

// join returns the walk this scrape shares, starting one if needed.
func (a *Account) join(ctx context.Context) *walk {
	deadline, hasDeadline := ctx.Deadline()
	a.mu.Lock()
	defer a.mu.Unlock()
	if w := a.walk; w != nil && w.client == a.client && w.ctx.extend(deadline, hasDeadline) {
		return w
	}
	w := &walk{client: a.client, ctx: newWalkContext(a.ctx, deadline, hasDeadline), done: make(chan struct{})}
	a.walk = w
	go a.run(w)
	return w
}

// wait waits for the walk's outcome within ctx; false means ctx ended first.
func (w *walk) wait(ctx context.Context) (Outcome, bool) {
	select {
	case <-w.done:
		return w.outcome, true
	case <-ctx.Done():
	}
	deadline, ok := ctx.Deadline()
	if !ok || w.ctx.outlives(deadline) {
		return Outcome{}, false // others keep the walk going
	}
	grace := time.NewTimer(walkGrace)
	defer grace.Stop()
	select {
	case <-w.done:
		return w.outcome, true
	case <-grace.C:
		return Outcome{}, false
	}
}

func (a *Account) run(w *walk) {
	start := time.Now()
	// The collectors run side by side: each is bounded by the walk's
	// context, and the budget bounds their requests together.
	var o Outcome
	var wg sync.WaitGroup
	wg.Go(func() { o.Connections = timed(func() (*vocode.Result, error) { return w.client.Walk(w.ctx) }) })
	if a.collectors.Usage {
		wg.Go(func() { o.Usage = timed(func() (*vocode.Usage, error) { return w.client.Usage(w.ctx) }) })
	}
	if a.collectors.Numbers {
		wg.Go(func() { o.Numbers = timed(func() (*vocode.NumberList, error) { return w.client.WalkNumbers(w.ctx) }) })
	}
	wg.Wait()
	w.ctx.release()
	// Series in label order make the registry's sort of each family
	// linear instead of n log n: with 10,000 connections that sort was a
	// sixth of a scrape's CPU. Sorted here, before the outcome is shared.
	if o.Connections.Err == nil {
		slices.SortFunc(o.Connections.Value.Connections, func(a, b vocode.Connection) int { return strings.Compare(a.ID, b.ID) })
	}
	if o.Numbers.Ran && o.Numbers.Err == nil {
		slices.SortFunc(o.Numbers.Value.Numbers, func(a, b vocode.Number) int { return strings.Compare(a.ID, b.ID) })
	}
	w.outcome = o
	status := newWalkStatus(o, time.Since(start))

	a.mu.Lock()
	if a.walk == w {
		a.walk = nil
	}
	a.lastWalk = status
	a.mu.Unlock()
	close(w.done)
}

// LastWalk returns the status of the account's last walk that ended; false
// when none has yet.
func (a *Account) LastWalk() (WalkStatus, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lastWalk == nil {
		return WalkStatus{}, false
	}
	return *a.lastWalk, true
}

func newWalkStatus(o Outcome, took time.Duration) *WalkStatus {
	s := &WalkStatus{Ended: time.Now(), Duration: took, Failed: map[string]vocode.Reason{}}
	c := o.Connections
	if c.Value != nil {
		s.Pages = c.Value.Pages
	}
	for name, err := range o.errors() {
		if err != nil && name != CollectorConnections {
			s.Failed[name] = vocode.ReasonOf(err)
		}
	}
	if c.Err != nil {
		s.Reason = vocode.ReasonOf(c.Err)
		var ve *vocode.Error
		if errors.As(c.Err, &ve) {
			s.Status = ve.Status
		}
		return s
	}
	s.Connections = map[string]int{"twilio": 0, "openai": 0}
	for _, conn := range c.Value.Connections {
		s.Connections[conn.Kind()]++
	}
	return s
}

// report counts and logs one scrape's outcome, collector by collector. A
// failure is logged at error level when it starts or changes reason, and at
// debug level while it repeats, so a long outage does not fill the log at
// every scrape.
func (a *Account) report(o Outcome) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cause := context.Cause(a.ctx); cause != nil {
		// The account was removed or the exporter is stopping: the walk
		// was cancelled on purpose, which is no failure of the API.
		why := "shutting down"
		if errors.Is(cause, errAccountRemoved) {
			why = cause.Error()
		}
		for _, err := range o.errors() {
			if err != nil {
				a.logger.Info("walk cancelled", "why", why)
				break
			}
		}
		return
	}
	errs := o.errors()
	for _, name := range a.collectors.names() {
		err := errs[name]
		last := a.lastReason[name]
		if err == nil {
			if last != "" {
				a.logger.Info("collector succeeds again", "collector", name, "after", string(last))
				delete(a.lastReason, name)
			}
			continue
		}
		reason := vocode.ReasonOf(err)
		a.metrics.scrapeErrors.WithLabelValues(name, string(reason)).Inc()
		attrs := []any{"collector", name, "reason", string(reason), "err", err.Error()}
		var ve *vocode.Error
		if errors.As(err, &ve) && ve.Status != 0 {
			attrs = append(attrs, "status", ve.Status)
		}
		if reason != last {
			a.logger.Error("collector failed", attrs...)
		} else {
			a.logger.Debug("collector failed again", attrs...)
		}
		a.lastReason[name] = reason
	}
}
