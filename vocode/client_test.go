package vocode_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// peak counts requests in flight, from the round trip's start until its
// body is closed (when the client gives its slots back), and keeps the
// most seen at once.
type peak struct{ now, most atomic.Int64 }

func (p *peak) add(n int64) {
	v := p.now.Add(n)
	for {
		m := p.most.Load()
		if v <= m || p.most.CompareAndSwap(m, v) {
			return
		}
	}
}

// countingTransport counts each request in every peak it is given.
type countingTransport struct {
	next  http.RoundTripper
	peaks []*peak
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	for _, p := range t.peaks {
		p.add(1)
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.done()
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, done: t.done}
	return resp, nil
}

func (t countingTransport) done() {
	for _, p := range t.peaks {
		p.add(-1)
	}
}

type countedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// Concurrency is one limit for the account across every endpoint it calls,
// and the budget one limit across accounts: each account walks its
// connections and numbers and reads its usage all at once, and neither
// limit is passed, while the tighter one is reached.
func TestConcurrencyIsPerAccountAcrossEndpoints(t *testing.T) {
	tests := []struct {
		name        string
		accounts    int
		concurrency int
		budget      int // 0: none
		wantAccount int // most in flight for one account
		wantAll     int // most in flight for all accounts together
	}{
		{name: "one account", accounts: 1, concurrency: 3, wantAccount: 3, wantAll: 3},
		{name: "one account, concurrency 1", accounts: 1, concurrency: 1, wantAccount: 1, wantAll: 1},
		{name: "budget tighter than the accounts", accounts: 2, concurrency: 3, budget: 4, wantAccount: 3, wantAll: 4},
		{name: "accounts tighter than the budget", accounts: 2, concurrency: 2, budget: 8, wantAccount: 2, wantAll: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var budget *vocode.Budget
			if tt.budget > 0 {
				budget = vocode.NewBudget(tt.budget)
			}
			all := &peak{}
			accounts := make([]*peak, tt.accounts)
			servers := make([]*vocodetest.Server, tt.accounts)
			errs := make(chan error, 3*tt.accounts)
			for i := range accounts {
				// One fake per account, as accounts have their own keys.
				s, _ := numbersServer(t, 400, vocodetest.WithLatency(5*time.Millisecond))
				s.SetConnections(vocodetest.Dataset(200, 200))
				servers[i] = s
				accounts[i] = &peak{}
				c := newClient(t, s, vocode.Options{PageSize: 10, Concurrency: tt.concurrency, Budget: budget,
					Transport: countingTransport{next: s.Client().Transport, peaks: []*peak{accounts[i], all}}})
				go func() { _, err := c.Walk(context.Background()); errs <- err }()
				go func() { _, err := c.WalkNumbers(context.Background()); errs <- err }()
				go func() { _, err := c.Usage(context.Background()); errs <- err }()
			}
			for range cap(errs) {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			for i, p := range accounts {
				if got := p.most.Load(); got != int64(tt.wantAccount) {
					t.Errorf("account %d: at most %d requests in flight, want %d", i, got, tt.wantAccount)
				}
				// The fake sees a request from its handler's start to its
				// end, within the client's view of it.
				if got := servers[i].Stats().All.MaxInFlight; got > tt.wantAccount {
					t.Errorf("account %d: the API saw %d requests at once, want at most %d", i, got, tt.wantAccount)
				}
			}
			if got := all.most.Load(); got != int64(tt.wantAll) {
				t.Errorf("all accounts: at most %d requests in flight, want %d", got, tt.wantAll)
			}
		})
	}
}
