package collector

import (
	"cmp"
	"maps"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// emitCallDepth sends the window's ended calls by duration (cumulative, as
// a histogram's buckets, but gauges: these are window counts, not
// counters), the short ones, and who answered them; and, when the walk
// counted by agent, the per-agent series.
func emitCallDepth(ch chan<- prometheus.Metric, acct string, d *vocode.CallDepth, agents *vocode.AgentList) {
	total := 0
	for i, n := range d.EndedByDuration {
		total += n
		bound := "+Inf"
		if i < len(vocode.DurationBuckets) {
			bound = strconv.FormatFloat(vocode.DurationBuckets[i], 'f', -1, 64)
		}
		ch <- prometheus.MustNewConstMetric(callsEndedByDurationDesc, prometheus.GaugeValue, float64(total), acct, bound)
	}
	ch <- prometheus.MustNewConstMetric(callsShortDesc, prometheus.GaugeValue, float64(d.Short), acct)
	emitCounts(ch, callsHumanDetectionDesc, acct, append(slices.Clip(vocode.HumanDetectionResults), vocode.HumanDetectionNone), d.HumanDetection)
	if d.ByAgent != nil {
		for _, a := range cutAgents(d.ByAgent, agents, d.MaxAgents) {
			emitCounts(ch, agentCallsDesc, acct, vocode.CallStatuses, a.ByStatus, a.label)
			emitCounts(ch, agentCallOutcomesDesc, acct, vocode.CallOutcomes, a.ByOutcome, a.label)
			ch <- prometheus.MustNewConstMetric(agentCallsShortDesc, prometheus.GaugeValue, float64(a.Short), acct, a.label)
		}
	}
}

// labelledCalls is the calls of one `agent` label value.
type labelledCalls struct {
	label string
	vocode.AgentCalls
}

// cutAgents gives the window's calls by `agent` label value, with at most
// maxAgents agents of their own: those with the most calls (ties by label,
// so that the cut is the same at every scrape with the same calls). The
// others are summed under "other"; calls of an agent the agents list does
// not hold are "unknown", outside the cut. agents is nil when the agents
// walk did not run or failed: every agent is then labelled by its id, and
// only a call that names no agent is unknown. Every call counts under
// exactly one label, so the labels add up to the account's counts.
func cutAgents(byID map[string]*vocode.AgentCalls, agents *vocode.AgentList, maxAgents int) []labelledCalls {
	var names map[string]string
	if agents != nil {
		names = agentLabels(agents.Agents)
	}
	byLabel := map[string]*labelledCalls{}
	for id, calls := range byID {
		label := id
		if names != nil {
			label = names[id]
		}
		if label == "" {
			label = agentUnknown
		}
		addCalls(byLabel, label, calls)
	}
	unknown := byLabel[agentUnknown]
	delete(byLabel, agentUnknown)
	ranked := slices.SortedFunc(maps.Values(byLabel), func(a, b *labelledCalls) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.label, b.label))
	})
	out := make([]labelledCalls, 0, min(len(ranked), maxAgents)+2)
	for _, a := range ranked[:min(len(ranked), maxAgents)] {
		out = append(out, *a)
	}
	if len(ranked) > maxAgents {
		rest := map[string]*labelledCalls{}
		for _, a := range ranked[maxAgents:] {
			addCalls(rest, agentOther, &a.AgentCalls)
		}
		out = append(out, *rest[agentOther])
	}
	if unknown != nil {
		out = append(out, *unknown)
	}
	return out
}

// addCalls adds calls to the entry of label in m.
func addCalls(m map[string]*labelledCalls, label string, calls *vocode.AgentCalls) {
	sum := m[label]
	if sum == nil {
		sum = &labelledCalls{label: label, AgentCalls: vocode.AgentCalls{ByStatus: map[string]int{}, ByOutcome: map[string]int{}}}
		m[label] = sum
	}
	sum.Calls += calls.Calls
	sum.Short += calls.Short
	for k, n := range calls.ByStatus {
		sum.ByStatus[k] += n
	}
	for k, n := range calls.ByOutcome {
		sum.ByOutcome[k] += n
	}
}
