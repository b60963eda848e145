// Command vocode-fake-api serves a fake Vocode Hosted API on a loopback
// port, so the exporter can be tried, and its dashboard and alerts watched,
// without a Vocode account:
//
//	go run ./cmd/vocode-fake-api --twilio 3 --openai 2 --numbers 6 --usage-minutes 420 --calls 60 &
//	VOCODE_API_KEY=demo go run . --vocode.url http://127.0.0.1:10402
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:10402", "address to serve the fake API on")
	key := flag.String("api-key", "demo", "bearer key the fake accepts")
	twilio := flag.Int("twilio", 3, "Twilio connections to serve")
	openai := flag.Int("openai", 2, "OpenAI connections to serve")
	numbers := flag.Int("numbers", 4, "phone numbers to serve, mixing Twilio and Vonage, attached, embedded and orphaned connections")
	plan := flag.String("plan", "enterprise", `plan to serve as plan_type, with or without its "plan_" prefix`)
	usageMinutes := flag.Int64("usage-minutes", 420, "minutes used this month")
	usageLimit := flag.Int64("usage-limit", 10000, "monthly limit in minutes; 0 or negative serves null, no limit")
	latency := flag.Duration("latency", 0, "delay before each answer")
	errorRate := flag.Float64("error-rate", 0, "share of requests answered 500, on every endpoint")
	rateLimitRate := flag.Float64("rate-limit-rate", 0, "share of requests answered 429 with Retry-After: 1, on every endpoint")
	maxPageSize := flag.Int("max-page-size", 100, "largest page size accepted; larger ones get 422")
	agents := flag.Int("agents", 8, "agents to serve on /v1/agents/list, with a shared name, an empty and a null name, embedded OpenAI connections, LLM fallbacks and webhooks")
	calls := flag.Int("calls", 60, "calls to serve on /v1/calls/list, newest first, spread over --calls-spread before start-up")
	callsSpread := flag.Duration("calls-spread", time.Hour, "time the calls' start times spread over")
	transcript := flag.Int("transcript-bytes", 2048, "size of each call's transcript")
	timeFormat := flag.String("calls-time-format", "seconds", "how start_time is served: seconds, milliseconds or rfc3339")
	sortMode := flag.String("calls-sort", "honoured", "what the calls list does with its sort: honoured, ignored or rejected (422 naming sort_column)")
	arrivals := flag.Int("calls-arrivals", 0, "new calls placed before each page of the calls list is served")
	nullsOrder := flag.String("calls-nulls", "postgres", "where a sorted calls list puts calls without a start time: postgres (first newest first, last oldest first), mysql (last newest first, first oldest first) or first (first both ways)")
	unstarted := flag.Int("calls-unstarted", 0, "a backlog of calls not started (null start_time) served besides --calls")
	pastEnd := flag.Int("calls-past-end-status", 0, "HTTP status to answer a calls page past the list's last page with, instead of an empty page (404, 500...); 0 serves the empty page")
	unstartedArrivals := flag.Int("calls-unstarted-arrivals", 0, "new calls not started placed before each page of the calls list is served")
	flag.Parse()
	if *pastEnd != 0 && (*pastEnd < 400 || *pastEnd > 599) {
		log.Fatalf("--calls-past-end-status %d: want 0 or an error status, 400 to 599", *pastEnd)
	}

	format, ok := map[string]vocodetest.TimeFormat{"seconds": vocodetest.TimeSeconds,
		"milliseconds": vocodetest.TimeMilliseconds, "rfc3339": vocodetest.TimeRFC3339}[*timeFormat]
	if !ok {
		log.Fatalf("--calls-time-format %q: want seconds, milliseconds or rfc3339", *timeFormat)
	}
	sort, ok := map[string]vocodetest.SortMode{"honoured": vocodetest.SortHonoured,
		"ignored": vocodetest.SortIgnored, "rejected": vocodetest.SortRejected}[*sortMode]
	if !ok {
		log.Fatalf("--calls-sort %q: want honoured, ignored or rejected", *sortMode)
	}

	nulls, ok := map[string]vocodetest.NullsOrder{"postgres": vocodetest.NullsPostgres,
		"mysql": vocodetest.NullsMySQL, "first": vocodetest.NullsAlwaysFirst}[*nullsOrder]
	if !ok {
		log.Fatalf("--calls-nulls %q: want postgres, mysql or first", *nullsOrder)
	}

	conns := vocodetest.Dataset(*twilio, *openai)
	served := vocodetest.Calls(*calls, time.Now(), *callsSpread, *transcript, conns)
	for i := range *unstarted {
		served = append(served, vocodetest.Call{ID: vocodetest.ID("u", i), Status: "not_started", ToNumber: "+14155550100"})
	}
	usage := vocodetest.Usage{Plan: "plan_" + strings.TrimPrefix(*plan, "plan_"), Minutes: *usageMinutes,
		LimitMinutes: *usageLimit, HasLimit: *usageLimit > 0}
	api := vocodetest.NewAPI(conns,
		vocodetest.WithNumbers(vocodetest.Numbers(*numbers, conns)), vocodetest.WithUsage(usage),
		vocodetest.WithAPIKey(*key), vocodetest.WithLatency(*latency), vocodetest.WithMaxPageSize(*maxPageSize),
		vocodetest.WithAgents(vocodetest.Agents(*agents)),
		vocodetest.WithCalls(served), vocodetest.WithCallTimeFormat(format), vocodetest.WithCallSort(sort),
		vocodetest.WithCallNulls(nulls), vocodetest.WithCallArrivals(*arrivals), vocodetest.WithUnstartedArrivals(*unstartedArrivals),
		vocodetest.WithCallsPastEndStatus(*pastEnd))
	if *errorRate > 0 {
		api.AddFault(vocodetest.Fault{Endpoint: vocodetest.AnyEndpoint, Rate: *errorRate, Status: http.StatusInternalServerError})
	}
	if *rateLimitRate > 0 {
		api.AddFault(vocodetest.Fault{Endpoint: vocodetest.AnyEndpoint, Rate: *rateLimitRate, Status: http.StatusTooManyRequests,
			Header: http.Header{"Retry-After": {"1"}},
			Body:   `{"detail":"All steering pool numbers are busy"}`})
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("fake Vocode API on http://%s (key %q): %d Twilio and %d OpenAI connections, %d numbers, %s, %d agents, %d calls\n",
		ln.Addr(), *key, *twilio, *openai, *numbers, usage.Plan, *agents, len(served))
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		api.Close()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
