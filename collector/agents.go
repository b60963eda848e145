package collector

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// The `agent` label values that name no one agent: the agents past the
// top-N cut, summed, and the calls whose agent is not in the agents list.
const (
	agentOther   = "other"
	agentUnknown = "unknown"
)

// agentLabels gives each agent its `agent` label value: its name where the
// name tells it apart from every other agent of the account, else its id
// (a name that is empty, shared with another agent, or one of the values
// that name no one agent). Every series that names an agent uses these
// values, so that they join on `agent`.
func agentLabels(agents []vocode.Agent) map[string]string {
	named := make(map[string]int, len(agents))
	for _, a := range agents {
		named[a.Name]++
	}
	labels := make(map[string]string, len(agents))
	for _, a := range agents {
		label := a.Name
		if label == "" || label == agentOther || label == agentUnknown || named[label] > 1 {
			label = a.ID
		}
		labels[a.ID] = label
	}
	return labels
}

// emitAgents sends the agents list's series: how many agents, and per agent
// its name and which of its settings are set. Nothing else of an agent is
// read, so nothing else can be exported.
func emitAgents(ch chan<- prometheus.Metric, acct string, l *vocode.AgentList) {
	ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(len(l.Agents)), acct)
	labels := agentLabels(l.Agents)
	for _, a := range l.Agents {
		ch <- prometheus.MustNewConstMetric(agentInfoDesc, prometheus.GaugeValue, 1,
			acct, labels[a.ID], a.ID, strconv.FormatBool(a.LLMFallback), strconv.FormatBool(a.OwnOpenAIConnection),
			strconv.FormatBool(a.Webhook))
	}
}
