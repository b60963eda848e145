package collector

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// deadlineTransport records, for each request the client sends, when it
// was sent, the deadline of its context and the error it ended with, and
// tells the test as each is sent and as each ends: events, not sleeps,
// order the test.
type deadlineTransport struct {
	next        http.RoundTripper
	sent, ended chan int
	mu          sync.Mutex
	trips       []trip
}

type trip struct {
	at          time.Time
	deadline    time.Time
	hasDeadline bool
	err         error
}

func (d *deadlineTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	deadline, ok := r.Context().Deadline()
	d.mu.Lock()
	i := len(d.trips)
	d.trips = append(d.trips, trip{at: time.Now(), deadline: deadline, hasDeadline: ok})
	d.mu.Unlock()
	d.sent <- i
	resp, err := d.next.RoundTrip(r)
	d.mu.Lock()
	d.trips[i].err = err
	d.mu.Unlock()
	d.ended <- i
	return resp, err
}

func (d *deadlineTransport) trip(i int) trip {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.trips[i]
}

func (d *deadlineTransport) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.trips)
}

// Every walk ends by the deadline it started with. The API never answers.
// A scrape starts a walk; once its request is out, scrapes with and
// without Prometheus' timeout header join it. The request's context has a
// deadline no later than the walk timeout after the request was sent,
// before anyone joined, and the request ends on that deadline: joining
// never moves it (a deadline that moved with each joining scrape would
// keep the walk going). No joiner starts a walk of its own, every scrape
// returns, and a scrape after the walk ended starts the next one, with a
// deadline of its own. goleak (TestMain) checks that nothing is left
// running.
func TestEveryWalkEndsByItsOwnDeadline(t *testing.T) {
	const walkTimeout = 2 * time.Second
	// hung bounds the wait for an event, so that a walk that never ends
	// fails the test instead of hanging it; it decides nothing else.
	const hung = time.Minute
	next := func(ch chan int, what string) int {
		t.Helper()
		select {
		case i := <-ch:
			return i
		case <-time.After(hung):
			t.Fatalf("no request %s in %v", what, hung)
			return -1
		}
	}

	api := vocodetest.NewAPI(vocodetest.Dataset(1, 1))
	api.AddFault(vocodetest.Fault{Hang: true})
	srv := httptest.NewServer(api)
	rt := &deadlineTransport{next: srv.Client().Transport, sent: make(chan int, 16), ended: make(chan int, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	set := newSet(ctx, t, account.Options{
		Load:        func() (*config.Config, error) { return config.FromFlags(srv.URL, "", vocodetest.DefaultAPIKey) },
		WalkTimeout: walkTimeout,
		Client:      vocode.Options{Backoff: time.Millisecond, Transport: rt},
	})
	t.Cleanup(func() {
		cancel()
		api.Close()
		srv.Client().CloseIdleConnections()
		srv.Close()
	})
	if err := set.Reload(); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(HandlerOpts{Accounts: set, Gatherer: prometheus.NewRegistry(),
		Timeout: walkTimeout, Offset: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	var scrapes sync.WaitGroup
	scrape := func(header string) {
		scrapes.Go(func() {
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if header != "" {
				r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", header)
			} // else: no header, as from curl
			h.ServeHTTP(httptest.NewRecorder(), r)
		})
	}

	for walk := range 2 {
		scrape("1.5")
		i := next(rt.sent, "sent")
		for _, header := range []string{"", "1.5", "", "5"} {
			scrape(header) // joins the walk in flight
		}
		if j := next(rt.ended, "ended"); j != i {
			t.Fatalf("walk %d: request %d ended, %d was sent", walk, j, i)
		}
		tr := rt.trip(i)
		switch {
		case !tr.hasDeadline:
			t.Errorf("walk %d: its request had no deadline", walk)
		case tr.deadline.After(tr.at.Add(walkTimeout)):
			t.Errorf("walk %d: its request's deadline is %v after it was sent, past the walk timeout of %v", walk, tr.deadline.Sub(tr.at), walkTimeout)
		case !errors.Is(tr.err, context.DeadlineExceeded):
			t.Errorf("walk %d: its request ended with %v, not on its deadline", walk, tr.err)
		}
		if walk > 0 && !tr.deadline.After(rt.trip(i-1).deadline) {
			t.Errorf("walk %d has the deadline of the walk before it", walk)
		}
		scrapes.Wait() // every scrape returns: those that joined, by the walk's end at the latest
		if n := rt.count(); n != i+1 {
			t.Fatalf("walk %d: %d requests; the scrapes that joined it started walks of their own", walk, n)
		}
	}
}
