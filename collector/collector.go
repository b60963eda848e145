package collector

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// Collector scrapes some accounts once. Build a new one per scrape with that
// scrape's context, so the scrape's deadline reaches every request to the
// API. It serves every series of its accounts: what the walk found, and the
// counters and histogram the account keeps between scrapes.
type Collector struct {
	ctx      context.Context
	accounts []*account.Account
}

// New returns a collector for one scrape of accounts.
func New(ctx context.Context, accounts []*account.Account) *Collector {
	return &Collector{ctx: ctx, accounts: accounts}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range scrapeDescs {
		ch <- d
	}
	for _, a := range c.accounts {
		a.Recorder().Describe(ch)
	}
}

// Collect implements prometheus.Collector: accounts are scraped in
// parallel. An account's counters are collected after its walk, so they
// count that walk's requests and failures next to the series it produced.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, a := range c.accounts {
		wg.Go(func() {
			emit(ch, a.Name(), a.Expected(), a.Scrape(c.ctx))
			a.Recorder().Collect(ch)
		})
	}
	wg.Wait()
}

// emit sends one account's series for one scrape. Each collector's series
// come only from its own success: partial counts would make an outage look
// like lost connections or numbers.
func emit(ch chan<- prometheus.Metric, acct string, expected map[string]int, o account.Outcome) {
	emitCollector(ch, acct, account.CollectorConnections, o.Connections.Err, o.Connections.Duration)
	if o.Usage.Ran {
		emitCollector(ch, acct, account.CollectorUsage, o.Usage.Err, o.Usage.Duration)
		if o.Usage.Err == nil {
			emitUsage(ch, acct, o.Usage.Value)
		}
	}
	if o.Numbers.Ran {
		emitCollector(ch, acct, account.CollectorNumbers, o.Numbers.Err, o.Numbers.Duration)
		if o.Numbers.Err == nil {
			emitNumbers(ch, acct, o.Numbers.Value)
		}
	}
	if o.Agents.Ran {
		emitCollector(ch, acct, account.CollectorAgents, o.Agents.Err, o.Agents.Duration)
		if o.Agents.Err == nil {
			emitAgents(ch, acct, o.Agents.Value)
		}
	}
	if o.Calls.Ran {
		emitCollector(ch, acct, account.CollectorCalls, o.Calls.Err, o.Calls.Duration)
		if o.Calls.Err == nil {
			emitCalls(ch, acct, o.Calls.Value, o.AgentNames)
		}
	}
	// What the configuration expects is known whatever the API answers.
	for typ, n := range expected {
		ch <- prometheus.MustNewConstMetric(expectedDesc, prometheus.GaugeValue, float64(n), acct, typ)
	}
	emitConnections(ch, acct, expected, o.Connections)
}

func emitCollector(ch chan<- prometheus.Metric, acct, name string, err error, took time.Duration) {
	ch <- prometheus.MustNewConstMetric(collectorSuccessDesc, prometheus.GaugeValue, boolValue(err == nil), acct, name)
	ch <- prometheus.MustNewConstMetric(collectorDurationDesc, prometheus.GaugeValue, took.Seconds(), acct, name)
}

// emitConnections sends the connection list's series. A failed walk sends
// only up, duration and pages.
func emitConnections(ch chan<- prometheus.Metric, acct string, expected map[string]int, p account.Part[*vocode.Result]) {
	pages := 0
	if p.Value != nil {
		pages = p.Value.Pages
	}
	ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, p.Duration.Seconds(), acct)
	ch <- prometheus.MustNewConstMetric(pagesDesc, prometheus.GaugeValue, float64(pages), acct)
	if p.Err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0, acct)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1, acct)

	res := p.Value
	if res.HasTotal {
		ch <- prometheus.MustNewConstMetric(reportedDesc, prometheus.GaugeValue, float64(res.Total), acct)
		ch <- prometheus.MustNewConstMetric(reportedEstimatedDesc, prometheus.GaugeValue, boolValue(res.TotalIsEstimated), acct)
	}
	// Every type an alert compares is present, 0 when the account has
	// none: twilio and openai always, and each type the configuration
	// expects.
	byKind := map[string]int{"twilio": 0, "openai": 0}
	for typ := range expected {
		byKind[typ] = 0
	}
	// The per-connection series share their label pairs: one account
	// pair, one pair per type, one id pair per connection.
	accountPair := labelPair("account", acct)
	typePairs := map[string]*dto.LabelPair{}
	for _, conn := range res.Connections {
		kind := conn.Kind()
		byKind[kind]++
		typePair := typePairs[kind]
		if typePair == nil {
			typePair = labelPair("type", kind)
			typePairs[kind] = typePair
		}
		idPair := labelPair("connection_id", conn.ID)
		ch <- &gauge{infoDesc, []*dto.LabelPair{accountPair, idPair, typePair}, 1}
		if conn.Type == vocode.TypeTwilio {
			byID := []*dto.LabelPair{accountPair, idPair}
			ch <- &gauge{poolDesc, byID, float64(conn.SteeringPoolSize)}
			ch <- &gauge{anyCallerIDDesc, byID, boolValue(conn.SupportsAnyCallerID)}
		}
	}
	for kind, n := range byKind {
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n), acct, kind)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// gauge is one sample of a per-connection series. Unlike the metrics of
// MustNewConstMetric, gauges can share label pairs, which are immutable once
// built; with 10,000 connections that halves what emit allocates. The
// registry still checks every sample's labels (names, UTF-8, duplicates).
type gauge struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair // in the order of desc's labels, which is sorted
	value  float64
}

func (g *gauge) Desc() *prometheus.Desc { return g.desc }

func (g *gauge) Write(m *dto.Metric) error {
	m.Label = g.labels
	m.Gauge = &dto.Gauge{Value: &g.value}
	return nil
}

func labelPair(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: &name, Value: &value}
}
