// Command minwalker is the yardstick of `make bench`: the least a program
// can do to read the account-connections list. It fetches the same pages as
// the exporter, with the same concurrency, and decodes them with plain
// encoding/json; no retries, no checks beyond the status, no metrics.
//
// It walks once for each line read on standard input and answers each with
// one line, so that the benchmark can measure its CPU time per walk from
// /proc the same way as the exporter's:
//
//	ok <connections> <pages> <walk nanoseconds> <bytes allocated>
//	error <message>
//
// The API key comes from $VOCODE_API_KEY.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

type item struct {
	ID           string   `json:"id"`
	Type         string   `json:"type"`
	SteeringPool []string `json:"steering_pool"`
	AnyCallerID  *bool    `json:"account_supports_any_caller_id"`
}

type page struct {
	Items   []item `json:"items"`
	HasMore bool   `json:"has_more"`
	Total   *int   `json:"total"`
}

type walker struct {
	url, key    string
	size, conc  int
	client      *http.Client
	connections int
}

func (w *walker) get(ctx context.Context, n int) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		w.url+"/v1/account_connections/list?page="+strconv.Itoa(n)+"&size="+strconv.Itoa(w.size), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+w.key)
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("page %d: status %d", n, resp.StatusCode)
	}
	var p page
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return nil, fmt.Errorf("page %d: %w", n, err)
	}
	return &p, nil
}

// walk fetches page 1, then the rest that its total announces, at most
// conc at a time, then follows has_more; it returns the pages fetched.
func (w *walker) walk(ctx context.Context) (int, error) {
	first, err := w.get(ctx, 1)
	if err != nil {
		return 1, err
	}
	w.connections = len(first.Items)
	fetched, last := 1, first
	if first.HasMore && first.Total != nil {
		pages := (*first.Total + w.size - 1) / w.size
		got := make([]*page, pages+1)
		errs := make([]error, pages+1)
		sem := make(chan struct{}, w.conc)
		var wg sync.WaitGroup
		for n := 2; n <= pages; n++ {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				got[n], errs[n] = w.get(ctx, n)
			})
		}
		wg.Wait()
		for n := 2; n <= pages; n++ {
			if errs[n] != nil {
				return fetched, errs[n]
			}
			fetched++
			w.connections += len(got[n].Items)
			last = got[n]
		}
	}
	for last.HasMore {
		fetched++
		if last, err = w.get(ctx, fetched); err != nil {
			return fetched, err
		}
		w.connections += len(last.Items)
	}
	return fetched, nil
}

func main() {
	url := flag.String("url", "", "base URL of the API")
	size := flag.Int("page-size", 100, "connections per page")
	conc := flag.Int("concurrency", 4, "most requests in flight")
	flag.Parse()
	if *url == "" || os.Getenv("VOCODE_API_KEY") == "" {
		fmt.Fprintln(os.Stderr, "usage: VOCODE_API_KEY=... minwalker --url URL [--page-size N] [--concurrency N]")
		os.Exit(2)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = *conc + 1
	w := &walker{url: *url, key: os.Getenv("VOCODE_API_KEY"), size: *size, conc: *conc,
		client: &http.Client{Transport: transport}}

	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	var ms runtime.MemStats
	for in.Scan() {
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		start := time.Now()
		pages, err := w.walk(context.Background())
		d := time.Since(start)
		runtime.ReadMemStats(&ms)
		if err != nil {
			fmt.Fprintf(out, "error %v\n", err)
		} else {
			fmt.Fprintf(out, "ok %d %d %d %d\n", w.connections, pages, d.Nanoseconds(), ms.TotalAlloc-before)
		}
		_ = out.Flush()
	}
}
