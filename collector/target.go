package collector

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// walkGrace is how long a scrape past its deadline still waits for the walk
// it shares: a walk ends a few milliseconds after its deadline.
const walkGrace = 100 * time.Millisecond

// Target is one account: its API client and the walk in flight, if any.
// Scrapes that arrive while a walk runs share its outcome, so the API sees
// requests grow with walks and not with scrapers.
type Target struct {
	name    string
	client  *vocode.Client
	metrics *Metrics
	logger  *slog.Logger
	// base ends with the process: walks outlive the scrape that started
	// them (others may be waiting) but not a shutdown.
	base context.Context

	mu         sync.Mutex
	current    *walkCall
	lastReason vocode.Reason // reason of the last failed walk, "" after a success; under mu
}

// Outcome is what one walk produced.
type Outcome struct {
	Result   *vocode.Result
	Err      error
	Duration time.Duration
}

type walkCall struct {
	done    chan struct{}
	outcome Outcome
}

// NewTarget returns the target for one account. base bounds every walk.
func NewTarget(base context.Context, name string, client *vocode.Client, m *Metrics, logger *slog.Logger) *Target {
	m.InitAccount(name)
	return &Target{name: name, client: client, metrics: m, base: base,
		logger: logger.With("account", name)}
}

// ContinueFrom carries what prev knew of the account's health over to t,
// the target that replaces it on reload, so that a failure outlasting the
// reload is not announced again at error level.
func (t *Target) ContinueFrom(prev *Target) {
	prev.mu.Lock()
	reason := prev.lastReason
	prev.mu.Unlock()
	t.mu.Lock()
	t.lastReason = reason
	t.mu.Unlock()
}

// Name is the account's name, the `account` label.
func (t *Target) Name() string { return t.name }

// Client is the account's API client.
func (t *Target) Client() *vocode.Client { return t.client }

// Walk returns the outcome of a walk of the list that ends within ctx: a new
// one, or the one already in flight.
func (t *Target) Walk(ctx context.Context) Outcome {
	t.mu.Lock()
	call := t.current
	if call == nil {
		call = &walkCall{done: make(chan struct{})}
		t.current = call
		go t.run(ctx, call)
	}
	t.mu.Unlock()

	select {
	case <-call.done:
		return call.outcome
	case <-ctx.Done():
	}
	// A walk this scrape started has the same deadline and ends with it:
	// wait a moment for it, so that its failure is counted in this scrape.
	grace := time.NewTimer(walkGrace)
	defer grace.Stop()
	select {
	case <-call.done:
		return call.outcome
	case <-grace.C:
		// This scrape gives up; the walk goes on for those sharing it.
		return Outcome{Err: &vocode.Error{Reason: vocode.ReasonTimeout, Err: ctx.Err()}}
	}
}

func (t *Target) run(scrapeCtx context.Context, call *walkCall) {
	var ctx context.Context
	var cancel context.CancelFunc
	if deadline, ok := scrapeCtx.Deadline(); ok {
		ctx, cancel = context.WithDeadline(t.base, deadline)
	} else {
		ctx, cancel = context.WithCancel(t.base)
	}
	defer cancel()

	start := time.Now()
	res, err := t.client.Walk(ctx)
	call.outcome = Outcome{Result: res, Err: err, Duration: time.Since(start)}
	if err == nil {
		// Series in label order make the registry's sort of each family
		// linear instead of n log n: with 10,000 connections that sort
		// was a sixth of a scrape's CPU. Sorted here, before the outcome
		// is shared.
		slices.SortFunc(res.Connections, func(a, b vocode.Connection) int { return strings.Compare(a.ID, b.ID) })
	}
	t.report(err)

	t.mu.Lock()
	t.current = nil
	t.mu.Unlock()
	close(call.done)
}

// report counts and logs a walk's failure. A failure is logged at error level
// when it starts or changes reason, and at debug level while it repeats, so
// a long outage does not fill the log at every scrape.
func (t *Target) report(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		if t.lastReason != "" {
			t.logger.Info("walk of the account-connections list succeeds again", "after", string(t.lastReason))
			t.lastReason = ""
		}
		return
	}
	if t.base.Err() != nil {
		t.logger.Info("walk cancelled: shutting down")
		return
	}
	reason := vocode.ReasonOf(err)
	t.metrics.walkFailed(t.name, reason)
	attrs := []any{"reason", string(reason), "err", err.Error()}
	var ve *vocode.Error
	if errors.As(err, &ve) && ve.Status != 0 {
		attrs = append(attrs, "status", ve.Status)
	}
	if reason != t.lastReason {
		t.logger.Error("walk of the account-connections list failed", attrs...)
	} else {
		t.logger.Debug("walk of the account-connections list failed again", attrs...)
	}
	t.lastReason = reason
}
