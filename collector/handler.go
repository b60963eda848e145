package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/vocode-exporter/vocode_exporter/account"
)

// HandlerOpts configure the /metrics and /probe handlers.
type HandlerOpts struct {
	// Accounts are the accounts to scrape; read once per scrape, so a
	// reloaded configuration applies from the next scrape on.
	Accounts *account.Set
	// Gatherer serves the exporter's own metrics (build info, config
	// reloads, Go and process metrics) next to the accounts' series.
	Gatherer prometheus.Gatherer
	// Timeout is the longest a scrape waits for its accounts' walks, the
	// walk timeout: a walk never takes longer. Offset is taken off
	// Prometheus' scrape timeout, when the request gives one, to leave
	// time for the response to travel; the tighter of the two wins.
	Timeout, Offset time.Duration
	// ProbeOnly leaves the accounts to /probe: /metrics then serves only
	// the Gatherer and starts no walk.
	ProbeOnly bool
	Logger    *slog.Logger
}

// NewHandler returns the /metrics handler: each request builds a collector
// of every account with a context that ends before Prometheus gives up on
// the scrape.
func NewHandler(o HandlerOpts) http.Handler {
	if o.ProbeOnly {
		return o.serve(o.Gatherer)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := scrapeContext(r, o.Timeout, o.Offset)
		defer cancel()
		reg := prometheus.NewRegistry()
		reg.MustRegister(New(ctx, o.Accounts.All()))
		o.serve(merged{reg, o.Gatherer}).ServeHTTP(w, r.WithContext(ctx))
	})
}

// maxAccountParam bounds how much of an unknown account name is quoted back.
const maxAccountParam = 64

// NewProbeHandler returns the /probe handler of the multi-target pattern:
// GET /probe?account=NAME scrapes that one account, with the same deadline
// rules as /metrics, and serves its series only. A missing or unknown
// account is a 400 that starts no walk.
func NewProbeHandler(o HandlerOpts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names := r.URL.Query()["account"]
		if len(names) != 1 || names[0] == "" {
			http.Error(w, "give exactly one account: /probe?account=NAME", http.StatusBadRequest)
			return
		}
		a := o.Accounts.Get(names[0])
		if a == nil {
			name := names[0]
			if len(name) > maxAccountParam {
				name = name[:maxAccountParam] + "..."
			}
			http.Error(w, fmt.Sprintf("unknown account %q: the configuration has no account of that name", name), http.StatusBadRequest)
			return
		}
		ctx, cancel := scrapeContext(r, o.Timeout, o.Offset)
		defer cancel()
		reg := prometheus.NewRegistry()
		reg.MustRegister(New(ctx, []*account.Account{a}))
		o.serve(reg).ServeHTTP(w, r.WithContext(ctx))
	})
}

// NewReloadHandler returns the /-/reload handler: POST or PUT reloads the
// configuration, re-reading key files; a configuration that fails to load
// leaves the previous one serving.
func NewReloadHandler(set *account.Set, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "reload takes POST or PUT", http.StatusMethodNotAllowed)
			return
		}
		if err := set.Reload(); err != nil {
			logger.Error("reload failed; the previous configuration keeps serving", "err", err)
			http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded")
	})
}

// serve exposes g as Prometheus asks for it.
func (o HandlerOpts) serve(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelError),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// scrapeContext is how long a scrape waits for the walks it shares: the
// tighter of the walk timeout and Prometheus' scrape timeout minus the
// offset. A scrape that gives up leaves the walk running to its own
// deadline, for a later scrape.
func scrapeContext(r *http.Request, timeout, offset time.Duration) (context.Context, context.CancelFunc) {
	if header := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); header != "" {
		if secs, err := strconv.ParseFloat(header, 64); err == nil && secs > 0 {
			scrape := time.Duration(secs * float64(time.Second))
			// An offset larger than the whole timeout would leave no
			// time at all; then the offset is not applied.
			if scrape > offset {
				scrape -= offset
			}
			if scrape < timeout {
				timeout = scrape
			}
		}
	}
	return context.WithTimeout(r.Context(), timeout)
}

// merged gathers two gatherers in order, like prometheus.Gatherers, but
// skips its second consistency check and sort of every series when the two
// share no metric name and report no error: each registry has checked and
// sorted its own series already, and with 10,000 connections doing it again
// cost a tenth of a scrape's CPU. (The per-scrape series are gauges whose
// names end in none of the suffixes Gatherers checks for collisions.)
type merged [2]prometheus.Gatherer

func (m merged) Gather() ([]*dto.MetricFamily, error) {
	a, errA := m[0].Gather()
	b, errB := m[1].Gather()
	if errA != nil || errB != nil || !disjoint(a, b) {
		// Rare: leave merging, checks and error messages to Gatherers.
		return prometheus.Gatherers{gathered(a, errA), gathered(b, errB)}.Gather()
	}
	out := append(append(make([]*dto.MetricFamily, 0, len(a)+len(b)), a...), b...)
	slices.SortFunc(out, func(x, y *dto.MetricFamily) int { return strings.Compare(x.GetName(), y.GetName()) })
	return out, nil
}

func disjoint(a, b []*dto.MetricFamily) bool {
	names := make(map[string]bool, len(a))
	for _, mf := range a {
		names[mf.GetName()] = true
	}
	for _, mf := range b {
		if names[mf.GetName()] {
			return false
		}
	}
	return true
}

// gathered is a Gatherer that returns what was already gathered.
func gathered(mfs []*dto.MetricFamily, err error) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, err })
}
