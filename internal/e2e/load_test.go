package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/internal/e2e"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// TestLoad has 40 scrapers scrape one exporter without pause for 20 s while
// the API takes 100 ms per answer. Every scrape must answer with data, the
// scrapers must share walks instead of multiplying the API's load, the
// concurrency limit must hold, and the exporter must come back to its
// resting goroutine count and heap afterwards.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s load test skipped in -short mode")
	}
	t.Parallel()
	const (
		scrapers     = 40
		loadFor      = 20 * time.Second
		latency      = 100 * time.Millisecond
		concurrency  = 3
		pageSize     = 20
		twilio       = 120
		openai       = 80
		pagesPerWalk = (twilio + openai + pageSize - 1) / pageSize
		maxP99       = 3 * time.Second
	)
	bin := e2e.Build(t)
	fake := vocodetest.NewServer(vocodetest.WithCredentials(vocodetest.Dataset(twilio, openai), canaryCred),
		vocodetest.WithAPIKey(canaryKey), vocodetest.WithLatency(latency))
	t.Cleanup(fake.Close)
	exp := e2e.Start(t, bin, e2e.Options{
		Args: []string{"--vocode.url=" + fake.URL, "--log.level=debug",
			fmt.Sprintf("--vocode.page-size=%d", pageSize), fmt.Sprintf("--vocode.concurrency=%d", concurrency),
			"--vocode.timeout=10s"},
		Env: []string{"VOCODE_API_KEY=" + canaryKey},
	})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: scrapers}, Timeout: 15 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	get := func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, exp.URL+"/metrics", nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return string(b), err
	}
	// resting reads the exporter's goroutines and heap goal once it is
	// idle (scraper connections closed), and when its last garbage
	// collection was.
	resting := func() (goroutines, heap, lastGC float64) {
		client.CloseIdleConnections()
		time.Sleep(200 * time.Millisecond)
		body, err := get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		mfs := families(t, body)
		return mustValue(t, mfs, "go_goroutines"), mustValue(t, mfs, "go_memstats_next_gc_bytes"),
			mustValue(t, mfs, "go_memstats_last_gc_time_seconds")
	}

	// Warm up: one walk, so that the baseline holds the API connections
	// a walk leaves idle.
	if _, err := get(context.Background()); err != nil {
		t.Fatal(err)
	}
	baseGoroutines, baseHeap, _ := resting()
	fake.ResetStats()

	wantLines := []string{
		`vocode_up{account="default"} 1`,
		fmt.Sprintf(`vocode_account_connections{account="default",type="twilio"} %d`, twilio),
		fmt.Sprintf(`vocode_account_connections{account="default",type="openai"} %d`, openai),
	}
	var (
		scrapes, failures atomic.Int64
		mu                sync.Mutex
		latencies         []time.Duration
		firstFailure      string
	)
	ctx, cancel := context.WithTimeout(context.Background(), loadFor)
	defer cancel()
	var wg sync.WaitGroup
	for range scrapers {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				body, err := get(context.Background())
				took := time.Since(start)
				scrapes.Add(1)
				if err == nil {
					for _, l := range wantLines {
						if !strings.Contains(body, l+"\n") {
							err = fmt.Errorf("no %q in the scrape", l)
							break
						}
					}
				}
				mu.Lock()
				latencies = append(latencies, took)
				if err != nil {
					failures.Add(1)
					if firstFailure == "" {
						firstFailure = err.Error()
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stats := fake.Stats()

	n := scrapes.Load()
	slices.Sort(latencies)
	p50, p99 := latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	walks := stats.Pages[1]
	t.Logf("%d scrapes, %d walks, %d API requests, max in flight %d; latency p50 %v p99 %v max %v",
		n, walks, stats.Requests, stats.MaxInFlight, p50, p99, latencies[len(latencies)-1])

	if f := failures.Load(); f > 0 {
		t.Errorf("%d of %d scrapes failed or lacked data; first: %s", f, n, firstFailure)
	}
	if n < scrapers*10 {
		t.Errorf("only %d scrapes in %v", n, loadFor)
	}
	// Walks are shared: requests grow with walks (each walk fetches every
	// page once) and walks are bounded by time, not by scrapes.
	if stats.Requests != walks*pagesPerWalk {
		t.Errorf("%d API requests for %d walks, want %d pages per walk", stats.Requests, walks, pagesPerWalk)
	}
	// A walk takes at least one page-1 round trip and then the remaining
	// pages, concurrency at a time.
	minWalk := latency * time.Duration(1+(pagesPerWalk-1+concurrency-1)/concurrency)
	if maxWalks := int(loadFor/minWalk) + 2; walks > maxWalks {
		t.Errorf("%d walks in %v: more than the %d that fit back to back; scrapes are not sharing walks", walks, loadFor, maxWalks)
	}
	if int64(walks)*10 > n {
		t.Errorf("%d walks for %d scrapes: want at least 10 scrapes per walk with %d scrapers", walks, n, scrapers)
	}
	if stats.MaxInFlight > concurrency {
		t.Errorf("%d requests in flight at once, more than --vocode.concurrency=%d", stats.MaxInFlight, concurrency)
	}
	if p99 > maxP99 {
		t.Errorf("scrape p99 latency %v, want at most %v", p99, maxP99)
	}

	// Back to rest: goroutines and heap return to where they started.
	// The heap goal falls only at a garbage collection, which an idle
	// process may not run for minutes: until one has run since the load
	// ended, a few more scrapes allocate towards it.
	loadEnded := float64(time.Now().UnixNano()) / 1e9
	var goroutines, heap, lastGC float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		goroutines, heap, lastGC = resting()
		if lastGC > loadEnded && goroutines <= baseGoroutines+4 && heap <= baseHeap*1.5+2<<20 || time.Now().After(deadline) {
			break
		}
		if lastGC <= loadEnded {
			for range 10 {
				if _, err := get(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	t.Logf("goroutines %v → %v; heap goal %.1f MiB → %.1f MiB", baseGoroutines, goroutines, baseHeap/(1<<20), heap/(1<<20))
	if goroutines > baseGoroutines+4 {
		t.Errorf("%v goroutines after the load, %v before", goroutines, baseGoroutines)
	}
	if heap > baseHeap*1.5+2<<20 {
		t.Errorf("heap goal %.1f MiB after the load, %.1f MiB before", heap/(1<<20), baseHeap/(1<<20))
	}
	assertProcessClean(t, exp)
}
