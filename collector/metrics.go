// Package collector turns walks of the Vocode account-connections list into
// Prometheus metrics: a Target per account walks the list, and a Collector
// built for each scrape walks every target within the scrape's deadline.
package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

const namespace = "vocode"

// Descriptions of the series a scrape produces. They are built once: the
// collector for each scrape only emits values against them.
var (
	upDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "up"),
		"1 if this scrape's walk of the account-connections list succeeded completely, 0 if any page failed (then no connection series are exported for the account).",
		[]string{"account"}, nil)
	connectionsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "account", "connections"),
		"Account connections by type; twilio and openai are always present, 0 when the account has none.",
		[]string{"account", "type"}, nil)
	reportedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "account", "connections_reported"),
		"Number of connections the API reports as `total` on page 1; absent when the API gives none. Compare with vocode_account_connections to see paging drift.",
		[]string{"account"}, nil)
	reportedEstimatedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "account", "connections_reported_estimated"),
		"1 when the API says its `total` is an estimate, else 0.",
		[]string{"account"}, nil)
	infoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "account", "connection_info"),
		"1 for each account connection the walk found; join on connection_id for the type.",
		[]string{"account", "connection_id", "type"}, nil)
	poolDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "twilio", "steering_pool_size"),
		"Phone numbers in the Twilio connection's steering pool: the most warm transfers it can run at once. 0 means warm transfers fail with 429.",
		[]string{"account", "connection_id"}, nil)
	anyCallerIDDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "twilio", "account_supports_any_caller_id"),
		"1 if the Twilio connection may use any caller ID, 0 if not or unset.",
		[]string{"account", "connection_id"}, nil)
	durationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "duration_seconds"),
		"How long this scrape's walk of the list took, failed walks included.",
		[]string{"account"}, nil)
	pagesDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "pages"),
		"Pages of the list fetched by this scrape's walk, failed ones included.",
		[]string{"account"}, nil)
)

// Metrics are the series that outlive a scrape: counters and the request
// latency histogram. Register them once, with the exporter's registry.
type Metrics struct {
	scrapeErrors    *prometheus.CounterVec
	apiRequests     *prometheus.CounterVec
	apiDuration     *prometheus.HistogramVec
	reloadSucceeded prometheus.Gauge
	reloadTime      prometheus.Gauge
}

// NewMetrics creates the long-lived metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scrape", Name: "errors_total",
			Help: "Walks of the list that failed, by reason: auth, rate_limited, server_error, client_error, timeout, transport, decode, too_large, pagination.",
		}, []string{"account", "reason"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "api", Name: "requests_total",
			Help: "HTTP requests made to the Vocode API, retries included, by endpoint and status code (`error` when no response came).",
		}, []string{"account", "endpoint", "code"}),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "api", Name: "request_duration_seconds",
			Help:                            "Latency of HTTP requests to the Vocode API, until the whole response body is read.",
			Buckets:                         []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  100,
			NativeHistogramMinResetDuration: time.Hour,
		}, []string{"account", "endpoint"}),
		reloadSucceeded: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "config_last_reload_successful",
			Help: "1 if the last load of the configuration succeeded; after a failed reload the previous configuration keeps serving.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load.",
		}),
	}
	reg.MustRegister(m.scrapeErrors, m.apiRequests, m.apiDuration, m.reloadSucceeded, m.reloadTime)
	return m
}

// InitAccount makes every failure reason of an account visible as 0, so
// that rate() and increase() see the first failure.
func (m *Metrics) InitAccount(account string) {
	for _, r := range vocode.Reasons() {
		m.scrapeErrors.WithLabelValues(account, string(r))
	}
}

// ForgetAccount drops the series of an account removed from the config.
func (m *Metrics) ForgetAccount(account string) {
	labels := prometheus.Labels{"account": account}
	m.scrapeErrors.DeletePartialMatch(labels)
	m.apiRequests.DeletePartialMatch(labels)
	m.apiDuration.DeletePartialMatch(labels)
}

// Observer returns the request observer for an account's API client.
func (m *Metrics) Observer(account string) vocode.RequestObserver {
	return func(endpoint, code string, d time.Duration) {
		m.apiRequests.WithLabelValues(account, endpoint, code).Inc()
		m.apiDuration.WithLabelValues(account, endpoint).Observe(d.Seconds())
	}
}

// ConfigLoaded records the outcome of a configuration (re)load.
func (m *Metrics) ConfigLoaded(ok bool) {
	if !ok {
		m.reloadSucceeded.Set(0)
		return
	}
	m.reloadSucceeded.Set(1)
	m.reloadTime.SetToCurrentTime()
}

func (m *Metrics) walkFailed(account string, reason vocode.Reason) {
	m.scrapeErrors.WithLabelValues(account, string(reason)).Inc()
}
