package collector

import (
	"maps"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

func agentCalls(ended, errors, short int) *vocode.AgentCalls {
	return &vocode.AgentCalls{Calls: ended + errors, ByStatus: map[string]int{"ended": ended, "error": errors},
		ByOutcome: map[string]int{"call_did_not_connect": errors}, Short: short}
}

// The top-N cut: the agents with the most calls keep their label (ties by
// label), the rest are summed under other, calls of agents the list does
// not hold are unknown and outside the cut; without the list, agents are
// labelled by id.
func TestCutAgents(t *testing.T) {
	byID := map[string]*vocode.AgentCalls{
		"g1": agentCalls(9, 1, 2), "g2": agentCalls(3, 3, 0), "g3": agentCalls(6, 0, 1),
		"g4": agentCalls(1, 0, 1), "g5": agentCalls(0, 2, 0), "gone": agentCalls(2, 2, 1), "": agentCalls(1, 0, 0),
	}
	list := &vocode.AgentList{Agents: []vocode.Agent{{ID: "g1", Name: "Front desk"}, {ID: "g2", Name: "Billing"},
		{ID: "g3", Name: "Surveys"}, {ID: "g4", Name: "Surveys"}, {ID: "g5"}}}
	tests := []struct {
		name      string
		agents    *vocode.AgentList
		maxAgents int
		want      map[string]int // calls by label
		wantOrder []string
	}{
		{"names, cut at 2", list, 2, map[string]int{"Front desk": 10, "Billing": 6, "other": 9, "unknown": 5},
			[]string{"Front desk", "Billing", "other", "unknown"}},
		{"names, no cut", list, 20, map[string]int{"Front desk": 10, "Billing": 6, "g3": 6, "g4": 1, "g5": 2, "unknown": 5},
			[]string{"Front desk", "Billing", "g3", "g5", "g4", "unknown"}},
		{"ids without the list, cut at 3", nil, 3, map[string]int{"g1": 10, "g2": 6, "g3": 6, "other": 7, "unknown": 1},
			[]string{"g1", "g2", "g3", "other", "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutAgents(byID, tt.agents, tt.maxAgents)
			calls := map[string]int{}
			var order []string
			sum := agentCalls(0, 0, 0)
			for _, a := range got {
				calls[a.label] = a.Calls
				order = append(order, a.label)
				sum.Calls += a.Calls
				sum.Short += a.Short
				for k, n := range a.ByStatus {
					sum.ByStatus[k] += n
				}
			}
			if !maps.Equal(calls, tt.want) {
				t.Errorf("calls by label %v, want %v", calls, tt.want)
			}
			if len(order) != len(tt.wantOrder) {
				t.Fatalf("labels %v, want %v", order, tt.wantOrder)
			}
			for i := range order {
				if order[i] != tt.wantOrder[i] {
					t.Fatalf("labels %v, want %v", order, tt.wantOrder)
				}
			}
			if sum.Calls != 30 || sum.Short != 5 || sum.ByStatus["ended"] != 22 || sum.ByStatus["error"] != 8 {
				t.Errorf("the labels add up to %+v, want every call once: 30 calls, 5 short, 22 ended, 8 errors", sum)
			}
		})
	}
}
