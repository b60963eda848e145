package vocode_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// benchPageJSON returns page 1 of size conns as the fake API serves it:
// realistic items, credentials included (the decoder must skip them).
func benchPageJSON(tb testing.TB, conns []vocodetest.Connection, size int) []byte {
	tb.Helper()
	api := vocodetest.NewAPI(conns)
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/account_connections/list?page=1&size=%d", size), nil)
	req.Header.Set("Authorization", "Bearer "+vocodetest.DefaultAPIKey)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("fake API answered %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// BenchmarkDecodePage decodes one page of 100 connections and aggregates it
// the way the collector does: counts by type and the Twilio pool sizes.
func BenchmarkDecodePage(b *testing.B) {
	body := benchPageJSON(b, vocodetest.Dataset(50, 50), 100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var sink int
	for b.Loop() {
		p, err := vocode.DecodePage(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) != 100 {
			b.Fatalf("decoded %d items, want 100", len(p.Items))
		}
		byKind := map[string]int{"twilio": 0, "openai": 0}
		pool := 0
		for _, c := range p.Items {
			byKind[c.Kind()]++
			if c.Type == vocode.TypeTwilio {
				pool += c.SteeringPoolSize
			}
		}
		sink += byKind["twilio"] + pool
	}
	_ = sink
}

// BenchmarkDecodeNumbersPage decodes one page of 100 numbers of the fake's
// mix, one in six embedding a connection with its credentials, and
// aggregates it as a collector would: by provider, active, with an agent.
func BenchmarkDecodeNumbersPage(b *testing.B) {
	conns := vocodetest.Dataset(50, 50)
	api := vocodetest.NewAPI(conns, vocodetest.WithNumbers(vocodetest.Numbers(100, conns)))
	req := httptest.NewRequest(http.MethodGet, "/v1/numbers/list?page=1&size=100", nil)
	req.Header.Set("Authorization", "Bearer "+vocodetest.DefaultAPIKey)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("fake API answered %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var sink int
	for b.Loop() {
		p, err := vocode.DecodeNumbersPage(bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) != 100 {
			b.Fatalf("decoded %d items, want 100", len(p.Items))
		}
		byProvider := map[string]int{vocode.ProviderTwilio: 0, vocode.ProviderVonage: 0}
		active, agents := 0, 0
		for _, n := range p.Items {
			byProvider[n.Provider]++
			if n.Active {
				active++
			}
			if n.HasInboundAgent {
				agents++
			}
		}
		sink += byProvider[vocode.ProviderTwilio] + active + agents
	}
	_ = sink
}

// BenchmarkWalk walks 10,000 connections (100 pages of 100) against the
// fake API answering each request after 20 ms. The floor is one round trip
// for page 1, then the other pages `concurrency` at a time.
func BenchmarkWalk(b *testing.B) {
	const (
		conns    = 10_000
		pageSize = 100
		latency  = 20 * time.Millisecond
	)
	srv := vocodetest.NewServer(vocodetest.Dataset(conns/2, conns/2), vocodetest.WithLatency(latency))
	defer srv.Close()
	pages := (conns + pageSize - 1) / pageSize

	for _, concurrency := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			// The transport New would build, kept here to close its idle
			// connections at the end (goleak checks for them).
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = concurrency + 1
			defer tr.CloseIdleConnections()
			client, err := vocode.New(srv.URL, srv.APIKey, vocode.Options{
				PageSize: pageSize, Concurrency: concurrency, Transport: tr})
			if err != nil {
				b.Fatal(err)
			}
			floor := time.Duration(1+(pages-1+concurrency-1)/concurrency) * latency
			b.ReportAllocs()
			var total time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				res, err := client.Walk(context.Background())
				total += time.Since(start)
				n++
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Connections) != conns || res.Pages != pages {
					b.Fatalf("walk found %d connections in %d pages, want %d in %d",
						len(res.Connections), res.Pages, conns, pages)
				}
			}
			walk := total / time.Duration(n)
			b.ReportMetric(float64(walk)/float64(time.Millisecond), "walk-ms")
			b.ReportMetric(float64(floor)/float64(time.Millisecond), "floor-ms")
			b.ReportMetric(float64(walk)/float64(floor), "x-floor")
		})
	}
}
