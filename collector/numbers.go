package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// emitUsage sends the account's usage against its plan's limit.
func emitUsage(ch chan<- prometheus.Metric, acct string, u *vocode.Usage) {
	ch <- prometheus.MustNewConstMetric(usageMinutesDesc, prometheus.GaugeValue, float64(u.Minutes), acct)
	// No limit is no series: a made-up limit would make the usage alerts
	// compare against it.
	if u.HasLimit {
		ch <- prometheus.MustNewConstMetric(usageLimitDesc, prometheus.GaugeValue, float64(u.LimitMinutes), acct)
	}
	ch <- prometheus.MustNewConstMetric(planInfoDesc, prometheus.GaugeValue, 1, acct, u.Plan)
}

// emitNumbers sends the numbers list's series: the count by provider, and
// per number what the alerts join on (its connection, whether it is active,
// outbound only, answered by an agent).
func emitNumbers(ch chan<- prometheus.Metric, acct string, l *vocode.NumberList) {
	byProvider := map[string]int{vocode.ProviderTwilio: 0, vocode.ProviderVonage: 0}
	for _, n := range l.Numbers {
		byProvider[n.Provider]++
		ch <- prometheus.MustNewConstMetric(numberInfoDesc, prometheus.GaugeValue, 1,
			acct, n.ConnectionID, n.Label, n.Number, n.ID, n.Provider)
		ch <- prometheus.MustNewConstMetric(numberActiveDesc, prometheus.GaugeValue, boolValue(n.Active), acct, n.ID)
		ch <- prometheus.MustNewConstMetric(numberOutboundOnlyDesc, prometheus.GaugeValue, boolValue(n.OutboundOnly), acct, n.ID)
		ch <- prometheus.MustNewConstMetric(numberInboundAgentDesc, prometheus.GaugeValue, boolValue(n.HasInboundAgent), acct, n.ID)
	}
	for provider, n := range byProvider {
		ch <- prometheus.MustNewConstMetric(numbersDesc, prometheus.GaugeValue, float64(n), acct, provider)
	}
}
