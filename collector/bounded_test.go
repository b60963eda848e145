package collector

import (
	"context"
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

// timedAPI serves api and keeps, for each request, when it came and when
// its client let go of it: against an API that never answers, a request
// lasts as long as the walk that made it.
type timedAPI struct {
	api *vocodetest.API
	mu  sync.Mutex
	req []span
}

type span struct{ start, end time.Time }

func (t *timedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := span{start: time.Now()}
	t.api.ServeHTTP(w, r)
	s.end = time.Now()
	t.mu.Lock()
	t.req = append(t.req, s)
	t.mu.Unlock()
}

func (t *timedAPI) spans() []span {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]span(nil), t.req...)
}

// Every walk ends by the deadline it started with. The API never answers;
// scrapes with and without Prometheus' timeout header join every half
// second for longer than two walks; with a walk timeout of 2 s, no request
// to the API outlives 2 s plus a little (a deadline that moved with each
// joining scrape would keep the first walk going all along), each scrape
// returns by then, and scrapes after a walk ended start the next one.
// goleak (TestMain) checks that nothing is left running.
func TestEveryWalkEndsByItsOwnDeadline(t *testing.T) {
	const walkTimeout = 2 * time.Second
	// A loaded machine may be slow to run a timer or a goroutine; this
	// slack is far below the 2 s a moving deadline would add.
	const slack = time.Second

	api := vocodetest.NewAPI(vocodetest.Dataset(1, 1))
	api.AddFault(vocodetest.Fault{Hang: true})
	timed := &timedAPI{api: api}
	srv := httptest.NewServer(timed)
	ctx, cancel := context.WithCancel(context.Background())
	set := newSet(ctx, t, account.Options{
		Load:        func() (*config.Config, error) { return config.FromFlags(srv.URL, "", vocodetest.DefaultAPIKey) },
		WalkTimeout: walkTimeout,
		Client:      vocode.Options{Backoff: time.Millisecond},
	})
	t.Cleanup(func() {
		cancel()
		api.Close()
		for _, a := range set.All() {
			a.Client().CloseIdleConnections()
		}
		srv.Close()
	})
	if err := set.Reload(); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(HandlerOpts{Accounts: set, Gatherer: prometheus.NewRegistry(),
		Timeout: walkTimeout, Offset: 500 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})

	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var longest time.Duration
	for i := range 12 { // one scrape every 500 ms for 5.5 s: walks start by 0, 2.5 and 5 s
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 500 * time.Millisecond)
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if i%2 == 0 {
				r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "1.5")
			} // else: no header, as from curl
			began := time.Now()
			h.ServeHTTP(httptest.NewRecorder(), r)
			took := time.Since(began)
			mu.Lock()
			longest = max(longest, took)
			mu.Unlock()
		})
	}
	wg.Wait()
	// The last walk ends by its deadline too: wait for every request the
	// API got to be let go of, no longer than a walk may take.
	deadline := time.Now().Add(walkTimeout + slack)
	for len(timed.spans()) < api.Stats().Requests && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n, m := len(timed.spans()), api.Stats().Requests; n < m {
		t.Errorf("%d of %d requests to the API still open %v after the last scrape", m-n, m, walkTimeout+slack)
	}

	spans := timed.spans()
	if len(spans) < 3 {
		t.Errorf("%d walks in %v of scrapes, want at least 3: a scrape after a walk ended must start a new one", len(spans), time.Since(start).Round(time.Millisecond))
	}
	for i, s := range spans {
		if d := s.end.Sub(s.start); d > walkTimeout+slack {
			t.Errorf("walk %d (started %v in) lasted %v, past its %v deadline", i, s.start.Sub(start).Round(time.Millisecond), d.Round(time.Millisecond), walkTimeout)
		}
	}
	if longest > walkTimeout+slack {
		t.Errorf("a scrape took %v, past the walk timeout of %v", longest.Round(time.Millisecond), walkTimeout)
	}
}
