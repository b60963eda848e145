package collector

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// An agent's label is its name where the name tells it apart, else its id.
func TestAgentLabels(t *testing.T) {
	agents := []vocode.Agent{
		{ID: "a1", Name: "Front desk"}, {ID: "a2", Name: "Billing"}, {ID: "a3", Name: "Front desk"},
		{ID: "a4"}, {ID: "a5", Name: "other"}, {ID: "a6", Name: "unknown"}, {ID: "a7", Name: "a2"},
	}
	want := map[string]string{"a1": "a1", "a2": "Billing", "a3": "a3", "a4": "a4", "a5": "a5", "a6": "a6", "a7": "a2"}
	if got := agentLabels(agents); !maps.Equal(got, want) {
		t.Errorf("labels %v\nwant   %v", got, want)
	}
}

// TestCollectAgents: the agents collector's series from the fake's mix of
// agents (a shared name, an empty and a null one, one named "other"),
// each embedding a canary in its prompt, initial message, webhook URL and
// OpenAI key, which no series and no log line may hold.
func TestCollectAgents(t *testing.T) {
	const canary = "agentCanary4Rt8Yw2Zq"
	agents := vocodetest.WithAgentSecrets(vocodetest.Agents(8), canary)
	agents[1].WebhookURL, agents[1].WebhookID = "", "" // one agent without a webhook
	agents[2].OpenAI = nil                             // one that names its connection by id
	agents[2].OpenAIID = "o-2"
	agents[3].OpenAI = nil // one on Vocode's own OpenAI key
	f := newCollectingFixture(t, "prod", account.Enabled{Agents: true}, vocodetest.Dataset(1, 1), vocodetest.WithAgents(agents))
	c := f.collect(context.Background())
	if err := testutil.CollectAndCompare(c, golden(t, "agents.prom"), "vocode_agents", "vocode_agent_info", "vocode_scrape_collector_success"); err != nil {
		t.Error(err)
	}
	text := gatherText(t, c)
	if strings.Contains(text, canary) || strings.Contains(f.logs.String(), canary) {
		t.Error("a canary of the agents reached the metrics or the log")
	}
	if n := f.api.Stats().Endpoints[vocodetest.EndpointAgents].Requests; n != 2 {
		t.Errorf("%d agents-list requests for two scrapes of 8 agents, want 2", n)
	}
}

// gatherText is what c exports, in the text format.
func gatherText(t *testing.T, c *Collector) string {
	t.Helper()
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range gather(t, c) {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// What the README promises one scrape costs with the default collectors:
// an account with up to 100 connections, numbers and agents costs 4
// requests, one per endpoint, and turning agents off takes its one off.
func TestDefaultScrapeCost(t *testing.T) {
	conns := vocodetest.Dataset(60, 40)
	opts := []vocodetest.Option{vocodetest.WithNumbers(vocodetest.Numbers(100, conns)), vocodetest.WithAgents(vocodetest.Agents(100))}
	for _, tt := range []struct {
		enabled account.Enabled
		want    int
	}{
		{account.Enabled{Usage: true, Numbers: true, Agents: true}, 4},
		{account.Enabled{Usage: true, Numbers: true}, 3},
	} {
		f := newCollectingFixture(t, "prod", tt.enabled, conns, opts...)
		gather(t, f.collect(context.Background()))
		s := f.api.Stats()
		if s.All.Requests != tt.want {
			t.Errorf("%+v: %d requests for one scrape, want %d: %+v", tt.enabled, s.All.Requests, tt.want, s.Endpoints)
		}
		for ep, es := range s.Endpoints {
			if es.Requests > 1 {
				t.Errorf("%+v: %d requests to %s, want at most 1", tt.enabled, es.Requests, ep)
			}
		}
	}
}
