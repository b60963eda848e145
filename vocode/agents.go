package vocode

import (
	"context"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// EndpointAgents is the `endpoint` label of GET /v1/agents/list.
const EndpointAgents = "agents_list"

const agentsPath = "/v1/agents/list"

// Agent is what the exporter keeps of one agent: its id, its name, and
// whether three of its settings are set. The API embeds in each agent an
// OpenAI connection with its key, a prompt, and a webhook whose URL may
// carry a token; the decoder skips all of it, so none of it reaches a value
// of ours.
type Agent struct {
	// ID is as the API sends it, less control characters and cut to 128
	// bytes, as every label value.
	ID string
	// Name is as the API sends it, less control characters and cut to 128
	// bytes; "" when it is null or missing. Names are neither unique nor
	// required.
	Name string
	// OwnOpenAIConnection: the agent brings its own OpenAI account
	// connection (an id or an embedded connection) instead of Vocode's.
	OwnOpenAIConnection bool
	LLMFallback         bool // an LLM fallback is set
	Webhook             bool // a webhook is set
}

func (a Agent) itemID() string { return a.ID }

// AgentPage is one decoded page of GET /v1/agents/list.
type AgentPage = PageOf[Agent]

// AgentList is what one walk of the agents list found.
type AgentList struct {
	// Agents holds each agent once, in the order first seen.
	Agents           []Agent
	Total            int // the API's total from page 1, if HasTotal
	HasTotal         bool
	TotalIsEstimated bool
	Pages            int // pages fetched, failed ones included
	PageSize         int
}

// WalkAgents fetches every page of the agents list, as Walk does the
// connection list and by the same rules; the agents list learns its own
// page size. The result is returned even on error, for its page count.
func (c *Client) WalkAgents(ctx context.Context) (*AgentList, error) {
	l, err := walkList(ctx, c, &c.agents)
	return &AgentList{Agents: l.items, Total: l.total, HasTotal: l.hasTotal,
		TotalIsEstimated: l.totalIsEstimated, Pages: l.pages, PageSize: l.pageSize}, err
}

// AgentsPageSize is the page size the client currently asks the agents
// list for.
func (c *Client) AgentsPageSize() int { return int(c.agents.pageSize.Load()) }

// agentJSON mirrors the few fields of NormalizedAgent the exporter reads.
// The others (prompt, voice, actions, user_id, ...) are skipped by the
// decoder without being decoded; the three settings are read for whether
// they are set, never for what they hold.
type agentJSON struct {
	ID          string    `json:"id"`
	Name        *string   `json:"name"`
	OpenAI      openAIRef `json:"openai_account_connection"`
	LLMFallback fallback  `json:"llm_fallback"`
	Webhook     webhook   `json:"webhook"`
}

// openAIRef is openai_account_connection: a connection's id, the connection
// itself with its credentials, or null.
type openAIRef bool

func (r *openAIRef) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readSet(dec, (*bool)(r), "openai_account_connection", true)
}

// fallback is llm_fallback: an object (provider and model) or null.
type fallback bool

func (f *fallback) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readSet(dec, (*bool)(f), "llm_fallback", false)
}

// webhook is webhook: a webhook's id, the webhook itself (its URL may hold
// a token), or null.
type webhook bool

func (w *webhook) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return readSet(dec, (*bool)(w), "webhook", true)
}

// readSet reads whether a setting is set: an object is, null is not, and
// where idOK a string is when it is not empty. The value is skipped, never
// decoded: an object's members are not even looked at. Any other kind of
// value fails the page, naming the field and quoting nothing.
func readSet(dec *jsontext.Decoder, set *bool, field string, idOK bool) error {
	switch k := dec.PeekKind(); {
	case k == '{':
		*set = true
		return dec.SkipValue()
	case k == 'n':
		*set = false
		_, err := dec.ReadToken()
		return err
	case k == '"' && idOK:
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*set = tok.String() != ""
		return nil
	default:
		if err := dec.SkipValue(); err != nil {
			return err // a syntax error, which says more
		}
		want := "an object or null"
		if idOK {
			want = "an id, an object or null"
		}
		return &fieldError{field + " holds " + kindName(k) + " where " + want + " was expected"}
	}
}

// DecodeAgentsPage reads one page of the agents list from r. Errors
// describe what is wrong with the page without quoting it, so they are
// safe to log.
func DecodeAgentsPage(r io.Reader) (*AgentPage, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading page: %w", err)
	}
	return decodeAgentsPage(b)
}

func decodeAgentsPage(b []byte) (*AgentPage, error) {
	return decodeListItems(b, agentOf)
}

func agentOf(i int, it *agentJSON) (Agent, error) {
	// The id becomes a label value (agent_id, and agent where the name
	// does not tell the agent apart): it is checked as it will be used.
	id := labelText(it.ID)
	if id == "" {
		return Agent{}, fmt.Errorf("item %d has no id", i)
	}
	a := Agent{ID: id, OwnOpenAIConnection: bool(it.OpenAI), LLMFallback: bool(it.LLMFallback), Webhook: bool(it.Webhook)}
	if it.Name != nil {
		a.Name = labelText(*it.Name)
	}
	return a, nil
}
