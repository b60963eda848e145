package vocode_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/vocode"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// wantAgent is what the client should make of an agent the fake serves.
func wantAgent(a vocodetest.Agent) vocode.Agent {
	return vocode.Agent{ID: a.ID, Name: a.Name, OwnOpenAIConnection: a.OpenAI != nil || a.OpenAIID != "",
		LLMFallback: a.LLMFallback, Webhook: a.WebhookURL != "" || a.WebhookID != ""}
}

func agentsStats(s *vocodetest.Server) vocodetest.EndpointStats {
	return s.Stats().Endpoints[vocodetest.EndpointAgents]
}

func agentIDs(agents []vocode.Agent) map[string]int {
	m := map[string]int{}
	for _, a := range agents {
		m[a.ID]++
	}
	return m
}

// The agents list is walked as the other lists are: every page, concurrent
// when page 1 gives an exact total, one after another when not, one
// request for up to a page of agents.
func TestWalkAgents(t *testing.T) {
	tests := []struct {
		name      string
		agents    int
		opts      []vocodetest.Option
		pageSize  int
		wantPages int
		wantTotal bool
	}{
		{name: "no agents", agents: 0, pageSize: 100, wantPages: 1, wantTotal: true},
		{name: "100 agents, one request", agents: 100, pageSize: 100, wantPages: 1, wantTotal: true},
		{name: "exact total, concurrent pages", agents: 250, pageSize: 100, wantPages: 3, wantTotal: true},
		{name: "estimated total, page by page", agents: 250, pageSize: 100, wantPages: 3, wantTotal: true,
			opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalEstimated)}},
		{name: "no total (pre-2024 API)", agents: 45, pageSize: 10, wantPages: 5,
			opts: []vocodetest.Option{vocodetest.WithTotal(vocodetest.TotalNone)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := vocodetest.Agents(tt.agents)
			s := newServer(t, vocodetest.Dataset(1, 1), append([]vocodetest.Option{vocodetest.WithAgents(data)}, tt.opts...)...)
			res, err := newClient(t, s, vocode.Options{PageSize: tt.pageSize}).WalkAgents(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Agents) != tt.agents || len(agentIDs(res.Agents)) != tt.agents {
				t.Fatalf("got %d agents (%d distinct), want %d", len(res.Agents), len(agentIDs(res.Agents)), tt.agents)
			}
			if got := agentsStats(s).Requests; res.Pages != tt.wantPages || got != tt.wantPages {
				t.Errorf("pages = %d, requests = %d, want %d", res.Pages, got, tt.wantPages)
			}
			if n := s.Stats().All.Requests; n != tt.wantPages {
				t.Errorf("%d requests in all, want the %d of the agents list", n, tt.wantPages)
			}
			if res.HasTotal != tt.wantTotal || (tt.wantTotal && res.Total != tt.agents) {
				t.Errorf("total = %d (has %v), want %d (has %v)", res.Total, res.HasTotal, tt.agents, tt.wantTotal)
			}
			for i, a := range res.Agents {
				if want := wantAgent(data[i]); a != want {
					t.Fatalf("agent %d is %+v\nwant %+v", i, a, want)
				}
			}
		})
	}
}

// The fake's agents hold every shape: check the walk saw each.
func TestWalkAgentsMix(t *testing.T) {
	s := newServer(t, nil, vocodetest.WithAgents(vocodetest.Agents(16)))
	res, err := newClient(t, s, vocode.Options{}).WalkAgents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range res.Agents {
		count["name "+a.Name]++
		if a.OwnOpenAIConnection {
			count["openai"]++
		}
		if a.LLMFallback {
			count["fallback"]++
		}
		if a.Webhook {
			count["webhook"]++
		}
	}
	want := map[string]int{"name ": 4, "name Front desk": 2, "name Front desk 1": 2, "name other": 1, "name Billing 1": 1,
		"openai": 11, "fallback": 8, "webhook": 11}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%d agents with %s, want %d (all: %v)", count[k], k, v, count)
		}
	}
}

// An agent added at the front while the walk runs shifts every later page
// by one: the agent at each page boundary comes twice, counts once.
func TestWalkAgentsCountsShiftedItemsOnce(t *testing.T) {
	data := vocodetest.Agents(30)
	s := newServer(t, nil, vocodetest.WithAgents(data), vocodetest.WithTotal(vocodetest.TotalNone))
	var shifted atomic.Bool
	s.OnServe(vocodetest.EndpointAgents, func(page int) {
		if page == 2 && shifted.CompareAndSwap(false, true) {
			extra := vocodetest.Agents(1)[0]
			extra.ID = vocodetest.ID("e", 1)
			s.SetAgents(append([]vocodetest.Agent{extra}, data...))
		}
	})
	res, err := newClient(t, s, vocode.Options{PageSize: 10}).WalkAgents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range agentIDs(res.Agents) {
		if n != 1 {
			t.Errorf("agent %s counted %d times", id, n)
		}
	}
	if len(res.Agents) != 30 || res.Pages != 4 {
		t.Errorf("got %d agents in %d pages, want the 30 walked past in 4", len(res.Agents), res.Pages)
	}
}

// The agents list learns its own page size: its rejecting 100 leaves the
// other lists asking for 100, and the size it learned holds for the next
// walk.
func TestWalkAgentsLearnsItsOwnPageSize(t *testing.T) {
	s := newServer(t, vocodetest.Dataset(1, 1), vocodetest.WithAgents(vocodetest.Agents(40)),
		vocodetest.WithMaxPageSizeFor(vocodetest.EndpointAgents, 30))
	c := newClient(t, s, vocode.Options{PageSize: 100})
	res, err := c.WalkAgents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AgentsPageSize() != 25 || res.PageSize != 25 || len(res.Agents) != 40 {
		t.Fatalf("agents page size %d (result %d), %d agents; want 25, 40", c.AgentsPageSize(), res.PageSize, len(res.Agents))
	}
	if c.PageSize() != 100 || c.NumbersPageSize() != 100 {
		t.Errorf("connection and numbers page sizes %d, %d, want 100 still", c.PageSize(), c.NumbersPageSize())
	}
	s.ResetStats()
	if _, err := c.WalkAgents(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := agentsStats(s).PageSizes; len(got) != 1 || got[25] != 2 {
		t.Errorf("the agents list was asked for sizes %v, want only 25 (2 pages)", got)
	}
}

// A failing page fails the walk with its reason, named for the agents list.
func TestWalkAgentsErrors(t *testing.T) {
	tests := []struct {
		fault  vocodetest.Fault
		reason vocode.Reason
		text   string
	}{
		{vocodetest.Fault{Status: http.StatusForbidden}, vocode.ReasonAuth, "list agents: auth on page 1 (HTTP 403)"},
		{vocodetest.Fault{Page: 2, Status: http.StatusBadRequest}, vocode.ReasonClientError, "list agents: client_error on page 2 (HTTP 400)"},
		{vocodetest.Fault{Handler: vocodetest.Raw(http.StatusOK, "application/json", `{"items":[{"id":"a","webhook":1}],"has_more":false}`)},
			vocode.ReasonDecode, "webhook holds a number"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			s := newServer(t, nil, vocodetest.WithAgents(vocodetest.Agents(25)))
			tt.fault.Endpoint = vocodetest.EndpointAgents
			s.AddFault(tt.fault)
			_, err := newClient(t, s, vocode.Options{PageSize: 10, Retries: -1}).WalkAgents(context.Background())
			var ve *vocode.Error
			if !errors.As(err, &ve) || ve.Reason != tt.reason || ve.Endpoint != vocode.EndpointAgents || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %s at %s saying %q", err, tt.reason, vocode.EndpointAgents, tt.text)
			}
		})
	}
}

// A canary in everything an agent embeds (the OpenAI key, the prompt, the
// initial message, the webhook URL) reaches nothing the client returns:
// not the agents, and not the error of a page that fails beside them.
func TestWalkAgentsCanary(t *testing.T) {
	const canary = "agentsCanary7Qx2Lm9Pz4Wv"
	agents := vocodetest.WithAgentSecrets(vocodetest.Agents(30), canary)
	s := newServer(t, nil, vocodetest.WithAgents(agents))
	c := newClient(t, s, vocode.Options{PageSize: 10})
	res, err := c.WalkAgents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Agents) != 30 {
		t.Fatalf("%d agents, want 30", len(res.Agents))
	}
	if got := fmt.Sprintf("%+v %#v", res, res.Agents); strings.Contains(got, canary) {
		t.Errorf("the canary reached the result: %s", got)
	}

	broken := append([]vocodetest.Agent(nil), agents...)
	broken[1].Raw = json.RawMessage(`{"id":"x","llm_fallback":"` + canary + `","openai_account_connection":` +
		`{"id":"o","credentials":{"openai_api_key":"` + canary + `"}}}`)
	s.SetAgents(broken)
	_, err = c.WalkAgents(context.Background())
	if vocode.ReasonOf(err) != vocode.ReasonDecode || strings.Contains(err.Error(), canary) {
		t.Errorf("err = %v, want a decode error without the canary", err)
	}
}
