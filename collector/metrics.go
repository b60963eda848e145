// Package collector turns walks of the Vocode account-connections list into
// Prometheus metrics. Accounts holds the configured accounts and reloads
// them; an Account shares its walks between the scrapes that arrive while one
// runs and owns its long-lived series; a Collector built for each scrape
// scrapes its accounts within the scrape's deadline.
package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/account"
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
	expectedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "account", "connections_expected"),
		"The least number of connections of this type the exporter's configuration expects (expected_connections); absent when none is configured.",
		[]string{"account", "type"}, nil)

	collectorSuccessDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "collector_success"),
		"1 if this scrape's collector succeeded, 0 if not: connections (the list walk, as vocode_up), usage, numbers, agents, calls. Each fails on its own.",
		[]string{"account", "collector"}, nil)
	collectorDurationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "scrape", "collector_duration_seconds"),
		"How long this scrape's collector took, failed ones included.",
		[]string{"account", "collector"}, nil)

	usageMinutesDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "usage", "minutes"),
		"Minutes of calls the account has used this month (monthly_usage_minutes).",
		[]string{"account"}, nil)
	usageLimitDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "usage", "limit_minutes"),
		"The monthly minutes the account's plan allows; calls stop when vocode_usage_minutes reaches it. Absent for a plan without a limit.",
		[]string{"account"}, nil)
	planInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "plan", "info"),
		"1, with the account's Vocode plan (free, developer, enterprise, unlimited, ...).",
		[]string{"account", "plan"}, nil)

	numbersDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "numbers"),
		"Phone numbers of the account by telephony provider; twilio and vonage are always present, 0 when the account has none.",
		[]string{"account", "provider"}, nil)
	numberInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "number", "info"),
		"1 for each phone number the walk found, with its number, label, provider and the id of its telephony account connection (\"\" when none).",
		[]string{"account", "connection_id", "label", "number", "number_id", "provider"}, nil)
	numberActiveDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "number", "active"),
		"1 if the phone number is active, 0 if not.",
		[]string{"account", "number_id"}, nil)
	numberOutboundOnlyDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "number", "outbound_only"),
		"1 if the phone number only places calls, 0 if it takes inbound calls too.",
		[]string{"account", "number_id"}, nil)
	numberInboundAgentDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "number", "inbound_agent"),
		"1 if an inbound agent answers the phone number's calls, 0 if none is set (inbound calls ring into nothing).",
		[]string{"account", "number_id"}, nil)

	agentsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "agents"),
		"Agents of the account (GET /v1/agents/list).",
		[]string{"account"}, nil)
	agentInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "agent", "info"),
		"1 for each agent, with its name as the agent label (replaced by its id where the name is empty, shared with another agent, or is other or unknown, the values that stand for no one agent in the per-agent calls series) and whether it brings its own OpenAI connection, has an LLM fallback and a webhook (true or false).",
		[]string{"account", "agent", "agent_id", "llm_fallback", "own_openai_connection", "webhook"}, nil)

	// The calls collector's series are gauges over a window, computed
	// afresh at every walk: two Prometheus servers, or an exporter that
	// restarted, read the same numbers, and nothing is counted twice.
	callsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "calls"),
		"Calls that started within the last vocode_calls_window_seconds, or have not started yet, by status (not_started, in_progress, error, ended; other for a value outside the API's list). A call without a readable start time counts if not finished, and if finished (error, ended) when it ended within the window. Every status is present, 0 when none.",
		[]string{"account", "status"}, nil)
	callOutcomesDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "call", "stage_outcomes"),
		"The same calls by stage outcome (how a call that did not go as planned ended: human_unanswered, call_did_not_connect, ...; other for a value outside the API's list). Calls without an outcome are not counted here; every outcome is present, 0 when none.",
		[]string{"account", "stage_outcome"}, nil)
	callsInProgressDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "in_progress"),
		"Calls of the window whose status is in_progress now, by stage (created, picked_up, transfer_started, transfer_successful; other for another or none). Compare transfer_started with the steering-pool size: a full pool answers 429.",
		[]string{"account", "stage"}, nil)
	callsWindowDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "window_seconds"),
		"The window the calls counts cover (--collector.calls.window): calls that started longer ago are not counted, even if still in progress.",
		[]string{"account"}, nil)
	callsTruncatedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "truncated"),
		"1 when the calls walk stopped at --collector.calls.max-pages before it reached the window's start, so the counts cover less than the window; else 0.",
		[]string{"account"}, nil)
	callsUndatedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "undated"),
		"Finished calls (error, ended) read by the calls walk whose start and end times are both null or unreadable: they cannot be placed in or out of the window and are not in vocode_calls. Not 0 means the API sends calls without times; see the runbook of VocodeCallsNotConnecting.",
		[]string{"account"}, nil)
	callsUnstartedTruncatedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "unstarted_truncated"),
		"1 when calls without a start time (not started yet, or failed before starting) were left unread past --collector.calls.max-unstarted-pages pages: the walk skipped them to count the window's started calls in full, and vocode_calls, vocode_call_stage_outcomes and vocode_calls_undated count only those read. Calls on the skipped pages that failed before starting and ended within the window are missing from vocode_calls{status=\"error\"} and the not-connecting ratio, while vocode_calls_truncated stays 0; else 0.",
		[]string{"account"}, nil)
	callLastStartDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "call", "last_start_timestamp_seconds"),
		"Unix time the newest call seen started; absent when no call seen had started.",
		[]string{"account"}, nil)
	callsEndedByDurationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "ended_by_duration"),
		"The window's calls with status ended that lasted at most max_seconds, cumulative like histogram buckets (but a gauge: a count over the window, not a counter). A call whose end is before its start, or whose duration cannot be read, counts under +Inf only.",
		[]string{"account", "max_seconds"}, nil)
	callsShortDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "short"),
		"The window's ended calls shorter than --collector.calls.short-call: a bot that hangs up within seconds (a revoked LLM key, a broken prompt) ends its calls without an error. Never a call whose duration cannot be read.",
		[]string{"account"}, nil)
	callsHumanDetectionDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "calls", "human_detection"),
		"The window's ended calls by human_detection_result: human, no_human (voicemail, a machine), none (no detection ran); other for a value outside the API's list, when seen.",
		[]string{"account", "result"}, nil)
	agentCallsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "agent", "calls"),
		"The window's calls by agent and status (--collector.calls.by-agent). The --collector.calls.max-agents agents with the most calls have their own agent value, the rest are summed under other; unknown is calls whose agent is not in the agents list. Summed over agent, it is vocode_calls.",
		[]string{"account", "agent", "status"}, nil)
	agentCallOutcomesDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "agent", "call_stage_outcomes"),
		"The window's calls by agent and stage outcome, agents as in vocode_agent_calls. Summed over agent, it is vocode_call_stage_outcomes.",
		[]string{"account", "agent", "stage_outcome"}, nil)
	agentCallsShortDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "agent", "calls_short"),
		"The window's short ended calls by agent, agents as in vocode_agent_calls. Summed over agent, it is vocode_calls_short.",
		[]string{"account", "agent"}, nil)
)

// scrapeDescs are the descriptions of every series a scrape builds.
var scrapeDescs = []*prometheus.Desc{
	upDesc, connectionsDesc, reportedDesc, reportedEstimatedDesc, infoDesc, poolDesc, anyCallerIDDesc,
	durationDesc, pagesDesc, expectedDesc, collectorSuccessDesc, collectorDurationDesc,
	usageMinutesDesc, usageLimitDesc, planInfoDesc,
	numbersDesc, numberInfoDesc, numberActiveDesc, numberOutboundOnlyDesc, numberInboundAgentDesc,
	agentsDesc, agentInfoDesc,
	callsDesc, callOutcomesDesc, callsInProgressDesc, callsWindowDesc, callsTruncatedDesc, callLastStartDesc,
	callsUndatedDesc, callsUnstartedTruncatedDesc,
	callsEndedByDurationDesc, callsShortDesc, callsHumanDetectionDesc, agentCallsDesc, agentCallOutcomesDesc, agentCallsShortDesc,
}

// accountMetrics are the series of one account that outlive a scrape:
// counters and the request latency histogram, as an account.Recorder. The
// account owns them: they are gathered with the account and dropped with it.
type accountMetrics struct {
	scrapeErrors *prometheus.CounterVec
	apiRequests  *prometheus.CounterVec
	apiDuration  *prometheus.HistogramVec
}

// NewAccountMetrics returns the series an account keeps between scrapes;
// it is the account.Options.NewRecorder of the exporter.
func NewAccountMetrics(account string, enabled account.Enabled) account.Recorder {
	return newAccountMetrics(account, enabled)
}

func newAccountMetrics(account string, enabled account.Enabled) *accountMetrics {
	labels := prometheus.Labels{"account": account}
	m := &accountMetrics{
		scrapeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "scrape", Name: "errors_total",
			Help:        "Scrapes in which a collector failed, by collector (connections: vocode_up 0; usage; numbers; agents; calls) and reason: auth, rate_limited, server_error, client_error, timeout, transport, decode, too_large, pagination. It counts failed scrapes, not failed walks: two Prometheus servers that share one failed walk count it twice.",
			ConstLabels: labels,
		}, []string{"collector", "reason"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "api", Name: "requests_total",
			Help:        "HTTP requests made to the Vocode API, retries included, by endpoint and status code (`error` when no response came).",
			ConstLabels: labels,
		}, []string{"endpoint", "code"}),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "api", Name: "request_duration_seconds",
			Help:                            "Latency of HTTP requests to the Vocode API, until the whole response body is read.",
			Buckets:                         []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  100,
			NativeHistogramMinResetDuration: time.Hour,
			ConstLabels:                     labels,
		}, []string{"endpoint"}),
	}
	// Every reason of every enabled collector is visible as 0 from the
	// start, so that rate() and increase() see the first failure.
	for _, c := range enabled.Names() {
		for _, r := range vocode.Reasons() {
			m.scrapeErrors.WithLabelValues(c, string(r))
		}
	}
	return m
}

// ObserveRequest implements account.Recorder.
func (m *accountMetrics) ObserveRequest(endpoint, code string, d time.Duration) {
	m.apiRequests.WithLabelValues(endpoint, code).Inc()
	m.apiDuration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// CountFailure implements account.Recorder.
func (m *accountMetrics) CountFailure(collector string, reason vocode.Reason) {
	m.scrapeErrors.WithLabelValues(collector, string(reason)).Inc()
}

// Describe implements prometheus.Collector.
func (m *accountMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.scrapeErrors.Describe(ch)
	m.apiRequests.Describe(ch)
	m.apiDuration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *accountMetrics) Collect(ch chan<- prometheus.Metric) {
	m.scrapeErrors.Collect(ch)
	m.apiRequests.Collect(ch)
	m.apiDuration.Collect(ch)
}

// reloadMetrics say whether the configuration loaded; they belong to the
// exporter, not to an account. They read the accounts' ReloadStatus, the one
// record of the last load, which the status page shows too.
type reloadMetrics struct {
	succeeded prometheus.Collector
	time      prometheus.Collector
}

func newReloadMetrics(last func() account.ReloadStatus) reloadMetrics {
	return reloadMetrics{
		succeeded: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "config_last_reload_successful",
			Help: "1 if the last load of the configuration succeeded; after a failed reload the previous configuration keeps serving.",
		}, func() float64 { return boolValue(last().OK) }),
		time: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load.",
		}, func() float64 {
			t := last().LastSuccess
			if t.IsZero() {
				return 0
			}
			return float64(t.UnixNano()) / 1e9
		}),
	}
}

// newBudgetMetrics reads the exporter's request budget at each scrape: how
// close to its limit it runs, and how long requests wait for it. Waiting
// requests mean walks slowed by the budget, not by the API.
func newBudgetMetrics(b *vocode.Budget) []prometheus.Collector {
	if b == nil {
		return nil
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "api_max_requests_in_flight",
			Help: "The request budget: most API requests in flight at once across every account (--vocode.max-requests-in-flight).",
		}, func() float64 { return float64(b.Limit()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "api_requests_in_flight",
			Help: "API requests holding a slot of the request budget now.",
		}, func() float64 { return float64(b.InFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "api_requests_waiting",
			Help: "API requests waiting for a slot of the request budget now; above 0 for long, the budget slows walks down.",
		}, func() float64 { return float64(b.Waiting()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "exporter", Name: "api_request_budget_wait_seconds_total",
			Help: "Time API requests spent waiting for a slot of the request budget, added up; its rate is the average number of requests waiting.",
		}, func() float64 { return b.Waited().Seconds() }),
	}
}

// ExporterMetrics are the exporter's own series besides Go's and the
// process's: the last configuration load, and the request budget.
type ExporterMetrics struct {
	reload reloadMetrics
	budget []prometheus.Collector // the request budget's series, if any
}

// NewExporterMetrics reads the set's last reload and the budget (nil: no
// budget series) at each scrape.
func NewExporterMetrics(set *account.Set, budget *vocode.Budget) *ExporterMetrics {
	return &ExporterMetrics{reload: newReloadMetrics(set.LastReload), budget: newBudgetMetrics(budget)}
}

// Describe implements prometheus.Collector.
func (m *ExporterMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.reload.succeeded.Describe(ch)
	m.reload.time.Describe(ch)
	for _, c := range m.budget {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *ExporterMetrics) Collect(ch chan<- prometheus.Metric) {
	m.reload.succeeded.Collect(ch)
	m.reload.time.Collect(ch)
	for _, c := range m.budget {
		c.Collect(ch)
	}
}
