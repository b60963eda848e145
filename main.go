// Command vocode_exporter is a Prometheus exporter for the account
// connections of Vocode's Hosted API: on each scrape it walks every page of
// GET /v1/account_connections/list for every configured account.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/collector"
	"github.com/vocode-exporter/vocode_exporter/config"
	"github.com/vocode-exporter/vocode_exporter/status"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

const exporterName = "vocode_exporter"

// defaultListenAddress is outside 9100-9999, which the Prometheus default
// port allocations have filled.
const defaultListenAddress = ":10401"

var (
	metricsPath = kingpin.Flag("web.telemetry-path", "Path under which to expose metrics.").
			Default("/metrics").String()
	apiURL = kingpin.Flag("vocode.url", "Base URL of the Vocode API, for accounts that set none. Must be https://, or http:// to a loopback address.").
		Default("https://api.vocode.dev").String()
	apiKeyFile = kingpin.Flag("vocode.api-key-file", "File holding the Vocode API key, re-read on reload. Without it the key comes from $VOCODE_API_KEY. The key is never a flag value: it would show in ps.").
			String()
	pageSize = kingpin.Flag("vocode.page-size", "Connections to ask for per page; halved (not below 10) while the API rejects it with 422.").
			Default("100").Int()
	concurrency = kingpin.Flag("vocode.concurrency", "Most API requests in flight at once for one account, across every endpoint it reads (connections, numbers, usage, agents, calls); --vocode.max-requests-in-flight bounds all accounts together.").
			Default("4").Int()
	maxInFlight = kingpin.Flag("vocode.max-requests-in-flight", "Most API requests in flight at once for the whole exporter, across accounts; requests beyond it wait their turn, first come first served.").
			Default("16").Int()
	timeout = kingpin.Flag("vocode.timeout", "Longest one walk of an account may take, every collector and retry included; fixed when the walk starts, whoever shares it. A scrape waits at most this long, or its Prometheus scrape timeout minus --vocode.timeout-offset if tighter, and a walk it gives up on goes on to its own deadline for the next scrape. Must be positive.").
		Default("30s").Duration()
	timeoutOffset = kingpin.Flag("vocode.timeout-offset", "Time taken off Prometheus' X-Prometheus-Scrape-Timeout-Seconds, so the answer arrives before Prometheus gives up.").
			Default("0.5s").Duration()
	probeOnly = kingpin.Flag("web.probe-only", "Scrape accounts only through /probe?account=NAME: /metrics then serves the exporter's own metrics and starts no walk.").
			Bool()
	expectedConnections = kingpin.Flag("vocode.expected-connections", "TYPE=COUNT: the least number of connections of a type the account made from flags should have (twilio=3); repeatable. VocodeConnectionsBelowExpected fires below it. With --config.file, set expected_connections per account instead.").
				Strings()
	collectUsage = kingpin.Flag("collector.usage", "Read GET /v1/usage once per walk of an account: minutes used against the plan's limit. --no-collector.usage turns it off.").
			Default("true").Bool()
	collectNumbers = kingpin.Flag("collector.numbers", "Walk every page of GET /v1/numbers/list per walk of an account: numbers, their connection and inbound agent. --no-collector.numbers turns it off.").
			Default("true").Bool()
	collectAgents = kingpin.Flag("collector.agents", "Walk every page of GET /v1/agents/list per walk of an account: agents, their names and whether each brings its own OpenAI connection, an LLM fallback and a webhook (nothing else of an agent is read). --no-collector.agents turns it off.").
			Default("true").Bool()
	collectCalls = kingpin.Flag("collector.calls", "Count the calls of the last --collector.calls.window from GET /v1/calls/list per walk of an account: by status, stage outcome and stage. Off by default: call records carry transcripts and callers' numbers (read, never kept or exported), and a busy account costs up to --collector.calls.max-pages heavy pages per walk.").
			Default("false").Bool()
	callsWindow = kingpin.Flag("collector.calls.window", "The calls counted are those that started within this window before the walk, and those not started yet (a finished call without a start time by its end_time). A call still in progress that started earlier is not seen: widen the window to see long calls.").
			Default("15m").Duration()
	callsMaxPages = kingpin.Flag("collector.calls.max-pages", "Most pages of started calls one walk reads; past it the counts cover less of the window and vocode_calls_truncated is 1.").
			Default("10").Int()
	callsShortCall = kingpin.Flag("collector.calls.short-call", "An ended call shorter than this is short (vocode_calls_short): a bot that hangs up within seconds ends its calls without an error.").
			Default("10s").Duration()
	callsByAgent = kingpin.Flag("collector.calls.by-agent", "Count the window's calls per agent too (vocode_agent_calls, vocode_agent_call_stage_outcomes, vocode_agent_calls_short), named from the agents list when --collector.agents is on, else by id. Off by default: it multiplies the calls series by up to --collector.calls.max-agents + 2.").
			Default("false").Bool()
	callsMaxAgents = kingpin.Flag("collector.calls.max-agents", "With --collector.calls.by-agent, the agents with the most calls in the window that get series of their own; the rest are summed under agent=\"other\".").
			Default("20").Int()
	callsMaxUnstartedPages = kingpin.Flag("collector.calls.max-unstarted-pages", "Most pages of calls without a start time (not started yet, or failed before starting) one walk reads; past it they are counted only as far as read, vocode_calls_unstarted_truncated is 1, and the walk skips the rest to count the window in full.").
				Default("10").Int()
	configFile = kingpin.Flag("config.file", "YAML file listing the accounts to walk (see README). Without it, one account named \"default\" comes from the --vocode.* flags.").
			String()
	configCheck = kingpin.Flag("config.check", "Validate the configuration (reading key files), print the result and exit: 0 if valid, 1 if not.").
			Bool()
	webConfig = webflag.AddFlags(kingpin.CommandLine, defaultListenAddress)
)

func main() {
	os.Exit(run())
}

func run() int {
	fillVersion()
	logConfig := &promslog.Config{}
	promslogflag.AddFlags(kingpin.CommandLine, logConfig)
	kingpin.Version(version.Print(exporterName))
	kingpin.HelpFlag.Short('h')
	kingpin.Parse()
	logger := promslog.New(logConfig)

	if *pageSize < vocode.MinPageSize {
		fmt.Fprintf(os.Stderr, "--vocode.page-size must be at least %d\n", vocode.MinPageSize)
		return 1
	}
	if *concurrency < 1 {
		fmt.Fprintln(os.Stderr, "--vocode.concurrency must be at least 1")
		return 1
	}
	if *timeout <= 0 {
		fmt.Fprintf(os.Stderr, "--vocode.timeout must be positive, got %v: every walk needs a deadline\n", *timeout)
		return 1
	}
	if *callsWindow <= 0 {
		fmt.Fprintf(os.Stderr, "--collector.calls.window must be positive, got %v\n", *callsWindow)
		return 1
	}
	if *callsMaxPages < 1 {
		fmt.Fprintln(os.Stderr, "--collector.calls.max-pages must be at least 1")
		return 1
	}
	if *callsShortCall <= 0 {
		fmt.Fprintf(os.Stderr, "--collector.calls.short-call must be positive, got %v\n", *callsShortCall)
		return 1
	}
	if *callsMaxAgents < 1 {
		fmt.Fprintln(os.Stderr, "--collector.calls.max-agents must be at least 1")
		return 1
	}
	if *callsMaxUnstartedPages < 1 {
		fmt.Fprintln(os.Stderr, "--collector.calls.max-unstarted-pages must be at least 1")
		return 1
	}
	if *maxInFlight < 1 {
		fmt.Fprintln(os.Stderr, "--vocode.max-requests-in-flight must be at least 1")
		return 1
	}
	expected, err := config.ParseExpected(*expectedConnections)
	if err != nil {
		fmt.Fprintf(os.Stderr, "--vocode.expected-connections: %v\n", err)
		return 1
	}
	src := config.Source{File: *configFile, DefaultURL: *apiURL, KeyFile: *apiKeyFile, Expected: expected}
	if *configCheck {
		return checkConfig(src)
	}

	logger.Info("starting "+exporterName, "version", version.Info(), "build_context", version.BuildContext())

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	budget := vocode.NewBudget(*maxInFlight)
	accounts, err := account.NewSet(ctx, account.Options{
		Load:    src.Load,
		Enabled: account.Enabled{Usage: *collectUsage, Numbers: *collectNumbers, Agents: *collectAgents, Calls: *collectCalls},
		Calls: vocode.CallsQuery{Window: *callsWindow, MaxPages: *callsMaxPages, MaxUnstartedPages: *callsMaxUnstartedPages,
			ShortCall: *callsShortCall, ByAgent: *callsByAgent, MaxAgents: *callsMaxAgents},
		WalkTimeout: *timeout,
		Client: vocode.Options{PageSize: *pageSize, Concurrency: *concurrency,
			Budget: budget, UserAgent: exporterName + "/" + version.Version},
		NewRecorder: collector.NewAccountMetrics,
		Logger:      logger,
	})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	if err := accounts.Reload(); err != nil {
		logger.Error("cannot load configuration", "err", err)
		return 1
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(exporterName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collector.NewExporterMetrics(accounts, budget),
	)

	srv := &http.Server{Handler: routes(accounts, reg, logger), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(srv, webConfig, logger) }()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	for {
		select {
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				logger.Error("cannot serve", "err", err)
				return 1
			}
			return 0
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				if err := accounts.Reload(); err != nil {
					logger.Error("reload failed; the previous configuration keeps serving", "err", err)
				}
				continue
			}
			logger.Info("shutting down", "signal", sig.String())
			stop() // ends walks in flight at once
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := srv.Shutdown(shutdownCtx)
			cancel()
			if err != nil {
				logger.Warn("shutdown did not finish cleanly", "err", err)
			}
			return 0
		}
	}
}

// routes maps the exporter's endpoints.
func routes(accounts *account.Set, reg *prometheus.Registry, logger *slog.Logger) *http.ServeMux {
	opts := collector.HandlerOpts{
		Accounts: accounts, Gatherer: reg, ProbeOnly: *probeOnly,
		Timeout: *timeout, Offset: *timeoutOffset, Logger: logger,
	}
	mux := http.NewServeMux()
	mux.Handle(*metricsPath, collector.NewHandler(opts))
	mux.Handle("/probe", collector.NewProbeHandler(opts))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready") })
	mux.Handle("/-/reload", collector.NewReloadHandler(accounts, logger))
	if *metricsPath != "/" {
		mux.Handle("/", status.Handler(accounts, status.Options{
			Version: version.Info(), MetricsPath: *metricsPath, ProbeOnly: *probeOnly, Calls: *collectCalls, Agents: *collectAgents, Logger: logger,
		}))
	}
	return mux
}

// checkConfig implements --config.check.
func checkConfig(src config.Source) int {
	cfg, err := src.Load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "configuration is invalid: %v\n", err)
		return 1
	}
	fmt.Printf("configuration is valid: %d account(s)\n%s", len(cfg.Accounts()), cfg.YAML())
	return 0
}
