package collector

import (
	"context"
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// sumBy adds up the samples of family name for account prod by the value
// of label (all of them under "" when label is empty), and counts the
// values of `agent` seen.
func sumBy(mfs []*dto.MetricFamily, name, label string) (map[string]float64, map[string]bool) {
	sums, agents := map[string]float64{}, map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case label:
					key = lp.GetValue()
				case "agent":
					agents[lp.GetValue()] = true
				}
			}
			sums[key] += m.GetGauge().GetValue()
		}
	}
	return sums, agents
}

// Summing every agent's series gives the account's series exactly, whatever
// the cut: the fake's calls spread over five agents with names (two of
// them shared), and an agent the list no longer holds; with the agents
// collector off, ids stand for names.
func TestAgentSumsEqualAccount(t *testing.T) {
	now := time.Now()
	calls := vocodetest.Calls(300, now, 10*time.Minute, 0, nil)
	tests := []struct {
		name       string
		enabled    account.Enabled
		maxAgents  int
		wantAgents []string
	}{
		{"names, cut at 2", account.Enabled{Agents: true, Calls: true}, 2,
			[]string{vocodetest.AgentID(0), "Billing", "other", "unknown"}},
		{"names, no cut", account.Enabled{Agents: true, Calls: true}, 20,
			[]string{vocodetest.AgentID(0), "Billing", vocodetest.AgentID(2), vocodetest.AgentID(3), "Reminders", "unknown"}},
		{"ids, agents off, cut at 3", account.Enabled{Calls: true}, 3,
			[]string{vocodetest.AgentID(0), vocodetest.AgentID(1), vocodetest.AgentID(2), "other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, "prod", account.Options{Enabled: tt.enabled,
				Calls: vocode.CallsQuery{ByAgent: true, MaxAgents: tt.maxAgents}},
				vocodetest.Dataset(1, 1), vocodetest.WithCalls(calls), vocodetest.WithAgents(vocodetest.Agents(8)))
			mfs := gather(t, f.collect(context.Background()))
			for _, pair := range []struct{ account, agent, label string }{
				{"vocode_calls", "vocode_agent_calls", "status"},
				{"vocode_call_stage_outcomes", "vocode_agent_call_stage_outcomes", "stage_outcome"},
				{"vocode_calls_short", "vocode_agent_calls_short", ""},
			} {
				want, _ := sumBy(mfs, pair.account, pair.label)
				got, agents := sumBy(mfs, pair.agent, pair.label)
				if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s summed over agent: %v, want %s: %v", pair.agent, got, pair.account, want)
				}
				if fmt.Sprint(agents) != fmt.Sprint(setOf(tt.wantAgents)) {
					t.Errorf("%s: agents %v, want %v", pair.agent, agents, tt.wantAgents)
				}
			}
			if short, _ := sumBy(mfs, "vocode_calls_short", ""); short[""] == 0 {
				t.Error("no short call: the sums of vocode_agent_calls_short prove nothing")
			}
		})
	}
}

func setOf(values []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range values {
		m[v] = true
	}
	return m
}
