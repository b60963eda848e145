package collector

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// Collector walks every target once, for one scrape. Build a new one per
// scrape with that scrape's context, so the scrape's deadline reaches every
// request to the API.
type Collector struct {
	ctx     context.Context
	targets []*Target
}

// New returns a collector for one scrape of targets.
func New(ctx context.Context, targets []*Target) *Collector {
	return &Collector{ctx: ctx, targets: targets}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{upDesc, connectionsDesc, reportedDesc, reportedEstimatedDesc,
		infoDesc, poolDesc, anyCallerIDDesc, durationDesc, pagesDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: accounts are walked in parallel.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, t := range c.targets {
		wg.Go(func() { emit(ch, t.name, t.Walk(c.ctx)) })
	}
	wg.Wait()
}

// emit sends one account's series. A failed walk sends only up, duration and
// pages: partial counts would make an outage look like lost connections.
func emit(ch chan<- prometheus.Metric, account string, o Outcome) {
	pages := 0
	if o.Result != nil {
		pages = o.Result.Pages
	}
	ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, o.Duration.Seconds(), account)
	ch <- prometheus.MustNewConstMetric(pagesDesc, prometheus.GaugeValue, float64(pages), account)
	if o.Err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0, account)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1, account)

	res := o.Result
	if res.HasTotal {
		ch <- prometheus.MustNewConstMetric(reportedDesc, prometheus.GaugeValue, float64(res.Total), account)
		ch <- prometheus.MustNewConstMetric(reportedEstimatedDesc, prometheus.GaugeValue, boolValue(res.TotalIsEstimated), account)
	}
	byKind := map[string]int{"twilio": 0, "openai": 0}
	for _, conn := range res.Connections {
		kind := conn.Kind()
		byKind[kind]++
		ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, account, conn.ID, kind)
		if conn.Type == vocode.TypeTwilio {
			ch <- prometheus.MustNewConstMetric(poolDesc, prometheus.GaugeValue, float64(conn.SteeringPoolSize), account, conn.ID)
			ch <- prometheus.MustNewConstMetric(anyCallerIDDesc, prometheus.GaugeValue, boolValue(conn.SupportsAnyCallerID), account, conn.ID)
		}
	}
	for kind, n := range byKind {
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n), account, kind)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
