package collector

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// One failed agents walk does not rename the per-agent calls series: the
// account's last agents list still names them, so that their `for:` and
// the dashboard's series go on. Before any agents walk succeeded, ids name
// them.
func TestFailedAgentsWalkKeepsNames(t *testing.T) {
	now := time.Now()
	calls := vocodetest.Calls(120, now, 10*time.Minute, 0, nil)
	f := newFixtureWith(t, "prod", account.Options{Enabled: account.Enabled{Agents: true, Calls: true},
		Calls: vocode.CallsQuery{ByAgent: true}},
		vocodetest.Dataset(1, 1), vocodetest.WithCalls(calls), vocodetest.WithAgents(vocodetest.Agents(8)))
	agentsOfScrape := func() (map[string]bool, bool) {
		mfs := gather(t, f.collect(context.Background()))
		_, agents := sumBy(mfs, "vocode_agent_calls", "status")
		info := false
		for _, mf := range mfs {
			info = info || mf.GetName() == "vocode_agent_info"
		}
		return agents, info
	}
	named, info := agentsOfScrape()
	if !info || !named["Billing"] {
		t.Fatalf("first scrape: agents %v, vocode_agent_info exported %v; want names (Billing) and the info", named, info)
	}
	f.api.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointAgents, Status: http.StatusNotFound})
	for scrape := 2; scrape <= 3; scrape++ {
		agents, info := agentsOfScrape()
		if info || fmt.Sprint(agents) != fmt.Sprint(named) {
			t.Errorf("scrape %d, agents walk failing: agents %v, vocode_agent_info exported %v; want %v and no info", scrape, agents, info, named)
		}
	}

	// A new account whose agents walk never succeeded: ids.
	g := newFixtureWith(t, "prod", account.Options{Enabled: account.Enabled{Agents: true, Calls: true},
		Calls: vocode.CallsQuery{ByAgent: true}},
		vocodetest.Dataset(1, 1), vocodetest.WithCalls(calls), vocodetest.WithAgents(vocodetest.Agents(8)))
	g.api.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointAgents, Status: http.StatusNotFound})
	_, ids := sumBy(gather(t, g.collect(context.Background())), "vocode_agent_calls", "status")
	if ids["Billing"] || !ids[vocodetest.AgentID(1)] {
		t.Errorf("no agents walk succeeded yet: agents %v, want ids", ids)
	}
}
