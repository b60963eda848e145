package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// emitCalls sends the calls collector's series: counts over the window by
// status, stage outcome and, for calls in progress, stage. Every value the
// API documents is present, 0 when no call has it, so that a ratio in an
// alert has both sides; other appears only when a call had a value outside
// the API's lists. Nothing of a call but these counts is exported.
func emitCalls(ch chan<- prometheus.Metric, acct string, s *vocode.CallStats, agents *vocode.AgentList) {
	emitCounts(ch, callsDesc, acct, vocode.CallStatuses, s.ByStatus)
	emitCounts(ch, callOutcomesDesc, acct, vocode.CallOutcomes, s.ByOutcome)
	emitCounts(ch, callsInProgressDesc, acct, vocode.CallStages, s.InProgress)
	ch <- prometheus.MustNewConstMetric(callsWindowDesc, prometheus.GaugeValue, s.Window.Seconds(), acct)
	ch <- prometheus.MustNewConstMetric(callsTruncatedDesc, prometheus.GaugeValue, boolValue(s.Truncated), acct)
	ch <- prometheus.MustNewConstMetric(callsUnstartedTruncatedDesc, prometheus.GaugeValue, boolValue(s.UnstartedTruncated), acct)
	ch <- prometheus.MustNewConstMetric(callsUndatedDesc, prometheus.GaugeValue, float64(s.Undated), acct)
	if !s.Newest.IsZero() {
		ch <- prometheus.MustNewConstMetric(callLastStartDesc, prometheus.GaugeValue, float64(s.Newest.UnixNano())/1e9, acct)
	}
	emitCallDepth(ch, acct, &s.Depth, agents)
}

// emitCounts sends one series per documented value, and one for
// vocode.CallOther when the walk saw such a value. agent, when given, is
// the `agent` label value of a per-agent family, which comes between
// account and the value.
func emitCounts(ch chan<- prometheus.Metric, desc *prometheus.Desc, acct string, documented []string, counts map[string]int, agent ...string) {
	labels := append([]string{acct}, agent...)
	for _, v := range documented {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[v]), append(labels, v)...)
	}
	if n, ok := counts[vocode.CallOther]; ok && n > 0 {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), append(labels, vocode.CallOther)...)
	}
}
