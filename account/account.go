package account

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

// walkGrace is how long a scrape whose deadline is not before its walk's
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
// the API sees requests grow with walks and not with scrapers. A walk's
// deadline is fixed when it starts (Options.WalkTimeout), whoever joins it:
// every walk ends, and a scrape that cannot wait that long gives up alone,
// leaving the walk to a later scrape. A walk begun with an API URL or key
// that a reload has since replaced is not shared: the next scrape starts a
// walk with the new ones.
type Account struct {
	name     string
	recorder Recorder
	logger   *slog.Logger
	timeout  time.Duration // the longest one walk may take
	// ctx ends when the account is removed or the exporter stops: walks
	// outlive the scrape that started them (others may share them), but
	// not the account.
	ctx    context.Context
	cancel context.CancelCauseFunc

	enabled Enabled           // which parts besides the connection list a walk reads
	calls   vocode.CallsQuery // which calls a walk counts, when enabled.Calls

	mu     sync.Mutex
	cfg    config.Account // the configuration the client was built from
	client *vocode.Client
	flight *flight // the walk in flight, if any
	// lastReason is, per collector, the reason of its last failure, or ""
	// after a success: what the log has said already.
	lastReason map[string]vocode.Reason
	lastWalk   *WalkStatus // the last walk that ended
	// lastAgents is the last agents list a walk got, for
	// Outcome.AgentNames; nil before any.
	lastAgents *vocode.AgentList
}

// flight is one walk of an account in flight, shared by the scrapes that
// join it. Its context has a deadline fixed at the start. Each collector's
// part of the outcome is kept as soon as it is known, so that a scrape that
// gives up on the walk still reports the parts that were done.
type flight struct {
	client   *vocode.Client
	ctx      context.Context
	deadline time.Time
	done     chan struct{} // closed when every part is in

	mu      sync.Mutex
	outcome Outcome
}

// set records one collector's part of the outcome.
func (f *flight) set(update func(*Outcome)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	update(&f.outcome)
}

// sofar returns the parts known now; the others have not Ran.
func (f *flight) sofar() Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.outcome
}

func newAccount(base context.Context, cfg config.Account, o *Options) *Account {
	ctx, cancel := context.WithCancelCause(base)
	rec := Recorder(nopRecorder{})
	if o.NewRecorder != nil {
		rec = o.NewRecorder(cfg.Name, o.Enabled)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Account{
		name: cfg.Name, recorder: rec, timeout: o.WalkTimeout, cfg: cfg, enabled: o.Enabled, calls: o.Calls,
		logger: logger.With("account", cfg.Name), ctx: ctx, cancel: cancel,
		lastReason: map[string]vocode.Reason{},
	}
}

// Name is the account's name, the `account` label.
func (a *Account) Name() string { return a.name }

// Recorder holds the account's series that outlive a scrape.
func (a *Account) Recorder() Recorder { return a.recorder }

// Expected returns the least number of connections of each type the
// configuration expects, nil when none.
func (a *Account) Expected() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg.Expected
}

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

// Scrape returns the outcome of a walk of the account that ends within ctx:
// a new walk, or the one in flight. The outcome is counted and logged once
// for this scrape.
func (a *Account) Scrape(ctx context.Context) Outcome {
	start := time.Now()
	f := a.join()
	o, ok := f.wait(ctx)
	if !ok {
		o = a.gaveUp(ctx, f.sofar(), time.Since(start))
	}
	a.report(o)
	return o
}

// gaveUp completes the outcome of a scrape whose deadline passed before the
// walk it shares ended: the collectors that were done keep their results,
// and each other one is a timeout.
func (a *Account) gaveUp(ctx context.Context, o Outcome, waited time.Duration) Outcome {
	timeout := func(endpoint string) error {
		return &vocode.Error{Reason: vocode.ReasonTimeout, Endpoint: endpoint,
			Detail: "the scrape's deadline passed before the walk it shares ended", Err: ctx.Err()}
	}
	if !o.Connections.Ran {
		o.Connections = Part[*vocode.Result]{Ran: true, Err: timeout(vocode.EndpointList), Duration: waited}
	}
	if a.enabled.Usage && !o.Usage.Ran {
		o.Usage = Part[*vocode.Usage]{Ran: true, Err: timeout(vocode.EndpointUsage), Duration: waited}
	}
	if a.enabled.Numbers && !o.Numbers.Ran {
		o.Numbers = Part[*vocode.NumberList]{Ran: true, Err: timeout(vocode.EndpointNumbers), Duration: waited}
	}
	if a.enabled.Agents && !o.Agents.Ran {
		o.Agents = Part[*vocode.AgentList]{Ran: true, Err: timeout(vocode.EndpointAgents), Duration: waited}
	}
	if a.enabled.Calls && !o.Calls.Ran {
		o.Calls = Part[*vocode.CallStats]{Ran: true, Err: timeout(vocode.EndpointCalls), Duration: waited}
	}
	return o
}

// join returns the walk a scrape shares, starting one if none is in flight
// on the account's current client. Joining never moves a walk's deadline.
func (a *Account) join() *flight {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f := a.flight; f != nil && f.client == a.client && f.ctx.Err() == nil {
		return f
	}
	deadline := time.Now().Add(a.timeout)
	ctx, cancel := context.WithDeadline(a.ctx, deadline)
	f := &flight{client: a.client, ctx: ctx, deadline: deadline, done: make(chan struct{})}
	f.outcome.AgentNames = a.lastAgents // until this walk's agents are in
	a.flight = f
	go func() {
		defer cancel()
		a.run(f)
	}()
	return f
}

// wait waits for the walk's outcome within ctx; false means ctx ended first.
func (f *flight) wait(ctx context.Context) (Outcome, bool) {
	select {
	case <-f.done:
		return f.sofar(), true
	case <-ctx.Done():
	}
	if deadline, ok := ctx.Deadline(); !ok || f.deadline.After(deadline) {
		return Outcome{}, false // the walk goes on, for a later scrape
	}
	// The walk's deadline is this scrape's too: it is ending now.
	grace := time.NewTimer(walkGrace)
	defer grace.Stop()
	select {
	case <-f.done:
		return f.sofar(), true
	case <-grace.C:
		return Outcome{}, false
	}
}

func (a *Account) run(f *flight) {
	start := time.Now()
	// The collectors run side by side: each is bounded by the walk's
	// context, and the client's concurrency and the budget bound their
	// requests together.
	var wg sync.WaitGroup
	wg.Go(func() {
		p := timed(func() (*vocode.Result, error) { return f.client.Walk(f.ctx) })
		// Series in label order make the registry's sort of each family
		// linear instead of n log n: with 10,000 connections that sort
		// was a sixth of a scrape's CPU. Sorted here, before it is shared.
		if p.Err == nil {
			slices.SortFunc(p.Value.Connections, func(a, b vocode.Connection) int { return strings.Compare(a.ID, b.ID) })
		}
		f.set(func(o *Outcome) { o.Connections = p })
	})
	if a.enabled.Usage {
		wg.Go(func() {
			p := timed(func() (*vocode.Usage, error) { return f.client.Usage(f.ctx) })
			f.set(func(o *Outcome) { o.Usage = p })
		})
	}
	if a.enabled.Numbers {
		wg.Go(func() {
			p := timed(func() (*vocode.NumberList, error) { return f.client.WalkNumbers(f.ctx) })
			if p.Err == nil {
				slices.SortFunc(p.Value.Numbers, func(a, b vocode.Number) int { return strings.Compare(a.ID, b.ID) })
			}
			f.set(func(o *Outcome) { o.Numbers = p })
		})
	}
	if a.enabled.Agents {
		wg.Go(func() {
			p := timed(func() (*vocode.AgentList, error) { return f.client.WalkAgents(f.ctx) })
			if p.Err == nil {
				slices.SortFunc(p.Value.Agents, func(a, b vocode.Agent) int { return strings.Compare(a.ID, b.ID) })
				a.mu.Lock()
				a.lastAgents = p.Value
				a.mu.Unlock()
			}
			f.set(func(o *Outcome) {
				o.Agents = p
				if p.Err == nil {
					o.AgentNames = p.Value
				}
			})
		})
	}
	if a.enabled.Calls {
		wg.Go(func() {
			p := timed(func() (*vocode.CallStats, error) { return f.client.Calls(f.ctx, a.calls) })
			f.set(func(o *Outcome) { o.Calls = p })
		})
	}
	wg.Wait()
	o := f.sofar()
	status := newWalkStatus(o, time.Since(start))

	a.mu.Lock()
	if a.flight == f {
		a.flight = nil
	}
	a.lastWalk = status
	a.mu.Unlock()
	close(f.done)
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
		for _, err := range o.Errors() {
			if err != nil {
				a.logger.Info("walk cancelled", "why", why)
				break
			}
		}
		return
	}
	errs := o.Errors()
	for _, name := range a.enabled.Names() {
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
		a.recorder.CountFailure(name, reason)
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
