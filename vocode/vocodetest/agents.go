package vocodetest

import (
	"encoding/json"
	"fmt"
)

// Agent is one agent as the fake serves it on GET /v1/agents/list, with
// what a real agent embeds: a prompt, an initial message, and optionally an
// OpenAI connection with its key and a webhook whose URL carries a token.
type Agent struct {
	ID string
	// Name is served as name; "" serves an empty string unless NullName
	// asks for null.
	Name     string
	NullName bool
	// Prompt and InitialMessage are served as prompt.content and
	// initial_message.
	Prompt         string
	InitialMessage string
	// OpenAI, when set, is served embedded as openai_account_connection,
	// credentials included; else OpenAIID, when set, as an id; else null.
	OpenAI   *Connection
	OpenAIID string
	// LLMFallback serves an llm_fallback object; false serves null.
	LLMFallback bool
	// WebhookURL, when set, is served as an embedded webhook with that URL
	// (as Agent has it); else WebhookID, when set, as an id (as
	// NormalizedAgent has it); else null.
	WebhookURL string
	WebhookID  string
	// Raw, when set, is served verbatim as the item.
	Raw json.RawMessage
}

// WithAgents sets the agents the fake serves; it serves none unless told.
func WithAgents(agents []Agent) Option { return func(a *API) { a.SetAgents(agents) } }

// SetAgents replaces the agents the fake serves; safe while it serves.
func (a *API) SetAgents(agents []Agent) {
	items := encodeAll(agents)
	a.mu.Lock()
	a.agents = items
	a.mu.Unlock()
}

// AgentID is the id of agent i of Agents, the id the fake's calls name.
func AgentID(i int) string { return ID("a", i) }

// agentNames are the names Agents cycles through: two agents share a name,
// one has an empty name, one a null name (the sixth), one is named like the
// label value of the agents past the top-N cut.
var agentNames = []string{"Front desk", "Billing", "Front desk", "", "Reminders", "", "other", "Outbound sales"}

// Agents returns a deterministic list of n agents, AgentID(0) to
// AgentID(n-1), named from a cycle of eight with a duplicate name, an empty
// one, a null one and one named "other"; past the first eight, names carry
// the round ("Billing 1"), so that duplicates stay duplicates. Every third
// embeds an OpenAI connection with credentials, every third after that
// names one by id; every second has an LLM fallback; the webhook cycles
// through an embedded one whose URL carries a token, an id, and none. Use
// WithAgentSecrets for a canary.
func Agents(n int) []Agent {
	agents := make([]Agent, n)
	for i := range agents {
		ag := Agent{
			ID:             AgentID(i),
			Name:           agentNames[i%len(agentNames)],
			NullName:       i%len(agentNames) == 5,
			Prompt:         "You are a helpful receptionist. Never reveal the code 1234.",
			InitialMessage: "Hello, how can I help?",
			LLMFallback:    i%2 == 1,
		}
		if round := i / len(agentNames); round > 0 && ag.Name != "" {
			ag.Name = fmt.Sprintf("%s %d", ag.Name, round)
		}
		switch i % 3 {
		case 0:
			conn := OpenAIConnection(i)
			ag.OpenAI = &conn
		case 1:
			ag.OpenAIID = ID("o", i)
		}
		switch i % 3 {
		case 0:
			ag.WebhookURL = "https://hooks.example.com/vocode?token=hook-" + ID("w", i)
		case 1:
			ag.WebhookID = ID("w", i)
		}
		agents[i] = ag
	}
	return agents
}

// WithAgentSecrets returns agents with secret planted wherever an agent
// carries something that must never leave the exporter: its prompt, its
// initial message, the URL of its webhook and the credentials of its
// OpenAI connection, which every agent gets embedded.
func WithAgentSecrets(agents []Agent, secret string) []Agent {
	out := make([]Agent, len(agents))
	for i, ag := range agents {
		ag.Prompt = "You are a receptionist. The door code is " + secret
		ag.InitialMessage = "Hi, I am " + secret
		ag.WebhookURL = "https://hooks.example.com/vocode?token=" + secret
		ag.OpenAI = withSecret(ag.OpenAI, OpenAIConnection(i), secret)
		out[i] = ag
	}
	return out
}

func (ag Agent) encode() json.RawMessage {
	if ag.Raw != nil {
		return ag.Raw
	}
	m := map[string]any{
		"id": ag.ID, "user_id": userID, "name": ag.Name,
		"prompt":          map[string]any{"content": ag.Prompt, "collect_fields": nil},
		"language":        "en",
		"actions":         []any{},
		"voice":           map[string]any{"type": "voice_eleven_labs", "voice_id": "Rachel"},
		"initial_message": ag.InitialMessage, "webhook": nil, "vector_database": nil,
		"openai_account_connection": nil, "llm_fallback": nil, "context_endpoint": nil,
		"interrupt_sensitivity": "low", "noise_suppression": false,
	}
	if ag.NullName {
		m["name"] = nil
	}
	switch {
	case ag.OpenAI != nil:
		m["openai_account_connection"] = ag.OpenAI.encode()
	case ag.OpenAIID != "":
		m["openai_account_connection"] = ag.OpenAIID
	}
	if ag.LLMFallback {
		m["llm_fallback"] = map[string]string{"provider": "azure", "model_name": "gpt-4o"}
	}
	switch {
	case ag.WebhookURL != "":
		m["webhook"] = map[string]any{"id": ID("w", 0), "user_id": userID,
			"subscriptions": []string{"event_phone_call_ended"}, "url": ag.WebhookURL, "method": "POST"}
	case ag.WebhookID != "":
		m["webhook"] = ag.WebhookID
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings, bools, maps and encoded JSON: cannot fail
	}
	return b
}

// encodeAll encodes items of a list the fake serves, each once.
func encodeAll[T interface{ encode() json.RawMessage }](items []T) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = it.encode()
	}
	return out
}

// withSecret returns conn, or def where conn is nil, with every credential
// set to secret: an embedded connection that carries a canary.
func withSecret(conn *Connection, def Connection, secret string) *Connection {
	if conn != nil {
		def = *conn
	}
	c := WithCredentials([]Connection{def}, secret)[0]
	return &c
}
