package collector

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// benchOutcome is a successful walk of n connections, half Twilio and half
// OpenAI, shaped as the fake API's data set and sorted by id as Account
// sorts them.
func benchOutcome(n int) account.Outcome {
	res := &vocode.Result{Total: n, HasTotal: true, Pages: (n + 99) / 100, PageSize: 100}
	for _, c := range vocodetest.Dataset(n/2, n-n/2) {
		conn := vocode.Connection{ID: c.ID, Type: c.Type, SteeringPoolSize: len(c.SteeringPool)}
		if c.AnyCallerID != nil {
			conn.SupportsAnyCallerID = *c.AnyCallerID
		}
		res.Connections = append(res.Connections, conn)
	}
	slices.SortFunc(res.Connections, func(a, b vocode.Connection) int { return strings.Compare(a.ID, b.ID) })
	return account.Outcome{Connections: account.Part[*vocode.Result]{Ran: true, Value: res}}
}

// benchFixed is a Collector that emits a walk's outcome without walking.
type benchFixed struct {
	account string
	outcome account.Outcome
}

func (f benchFixed) Describe(ch chan<- *prometheus.Desc) { (&Collector{}).Describe(ch) }
func (f benchFixed) Collect(ch chan<- prometheus.Metric) { emit(ch, f.account, nil, f.outcome) }

// BenchmarkCollect10k measures the exporter's own work for an account of
// 10,000 connections.
//
//   - expose: emit the series of a finished walk, gather them next to the
//     long-lived metrics as the handler does, and encode them in the text
//     exposition format: what a scrape costs on top of the walk.
//   - scrape: the real /metrics handler against the fake API without
//     latency, asked as Prometheus asks (OpenMetrics, gzip): walk, decode,
//     emit, encode and compress.
func BenchmarkCollect10k(b *testing.B) {
	const n = 10_000
	base := prometheus.NewRegistry()
	base.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	b.Run("expose", func(b *testing.B) {
		fixed := benchFixed{account: "default", outcome: benchOutcome(n)}
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		b.ReportAllocs()
		for b.Loop() {
			reg := prometheus.NewRegistry()
			reg.MustRegister(fixed)
			mfs, err := merged{reg, base}.Gather()
			if err != nil {
				b.Fatal(err)
			}
			enc := expfmt.NewEncoder(io.Discard, format)
			series := 0
			for _, mf := range mfs {
				series += len(mf.GetMetric())
				if err := enc.Encode(mf); err != nil {
					b.Fatal(err)
				}
			}
			// 10,000 info series, 5,000 pool and 5,000 caller-ID series.
			if series < 2*n {
				b.Fatalf("gathered %d series, want at least %d", series, 2*n)
			}
		}
	})

	b.Run("scrape", func(b *testing.B) {
		srv := vocodetest.NewServer(vocodetest.Dataset(n/2, n-n/2))
		defer srv.Close()
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = vocode.DefaultConcurrency + 1
		defer tr.CloseIdleConnections()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		logger := slog.New(slog.DiscardHandler)
		accounts, err := account.NewSet(ctx, account.Options{
			Load:        func() (*config.Config, error) { return config.FromFlags(srv.URL, "", srv.APIKey) },
			WalkTimeout: time.Minute,
			Client:      vocode.Options{Transport: tr},
			NewRecorder: NewAccountMetrics,
			Logger:      logger,
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := accounts.Reload(); err != nil {
			b.Fatal(err)
		}
		base.MustRegister(NewExporterMetrics(accounts, nil))
		h := NewHandler(HandlerOpts{Accounts: accounts, Gatherer: base, Timeout: time.Minute, Logger: logger})
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			// As Prometheus asks: OpenMetrics first, gzip.
			req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1")
			req.Header.Set("Accept-Encoding", "gzip")
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("scrape answered %d", rec.Code)
			}
		}
	})
}
