package collector

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HandlerOpts configure the /metrics handler.
type HandlerOpts struct {
	// Targets returns the accounts to walk; called once per scrape, so a
	// reloaded configuration applies from the next scrape on.
	Targets func() []*Target
	// Gatherer serves the long-lived metrics (counters, build info, Go and
	// process metrics) next to the ones each scrape produces.
	Gatherer prometheus.Gatherer
	// Timeout bounds a walk; zero disables it, leaving only the scrape's own
	// deadline. Offset is taken off Prometheus' scrape timeout to leave time
	// for the response to travel.
	Timeout, Offset time.Duration
	Logger          *slog.Logger
}

// NewHandler returns the /metrics handler: each request builds a collector
// with a context that ends before Prometheus gives up on the scrape.
func NewHandler(o HandlerOpts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := scrapeContext(r, o.Timeout, o.Offset)
		defer cancel()

		reg := prometheus.NewRegistry()
		reg.MustRegister(New(ctx, o.Targets()))
		h := promhttp.HandlerFor(prometheus.Gatherers{o.Gatherer, reg}, promhttp.HandlerOpts{
			ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelError),
			ErrorHandling:     promhttp.ContinueOnError,
			EnableOpenMetrics: true,
		})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// scrapeContext derives the walk's context from the request: the tighter of
// the configured timeout and Prometheus' scrape timeout minus the offset.
func scrapeContext(r *http.Request, timeout, offset time.Duration) (context.Context, context.CancelFunc) {
	if header := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); header != "" {
		if secs, err := strconv.ParseFloat(header, 64); err == nil && secs > 0 {
			scrape := time.Duration(secs * float64(time.Second))
			// An offset larger than the whole timeout would leave no
			// time at all; then the offset is not applied.
			if scrape > offset {
				scrape -= offset
			}
			if timeout == 0 || scrape < timeout {
				timeout = scrape
			}
		}
	}
	if timeout <= 0 {
		return context.WithCancel(r.Context())
	}
	return context.WithTimeout(r.Context(), timeout)
}
