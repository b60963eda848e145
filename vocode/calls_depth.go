package vocode

import (
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DurationBuckets are the upper bounds, in seconds, of the ended calls'
// durations counted by CallDepth.EndedByDuration; one more bucket, +Inf,
// holds the calls longer than the last and those whose duration cannot be
// read.
var DurationBuckets = []float64{5, 10, 30, 60, 120, 300, 600, 1800}

// HumanDetectionResults are the values of human_detection_result the spec
// lists, and HumanDetectionNone stands for null: with CallOther, the keys
// of CallDepth.HumanDetection.
var HumanDetectionResults = []string{"human", "no_human"}

// HumanDetectionNone counts the ended calls whose human_detection_result
// is null or missing: no detection ran.
const HumanDetectionNone = "none"

// Defaults for CallsQuery fields of the deeper counts left zero.
const (
	DefaultShortCall = 10 * time.Second
	DefaultMaxAgents = 20
)

// CallDepth is what a walk counts of the window's calls beyond status and
// stage: how long the ended ones lasted, who answered them, and, when
// asked, every count by agent.
type CallDepth struct {
	// ShortCall is the duration under which an ended call is short, and
	// MaxAgents the most agents that get series of their own: the
	// CallsQuery's, or their defaults.
	ShortCall time.Duration
	MaxAgents int
	// EndedByDuration counts the ended calls by duration, one entry per
	// bucket, not cumulative: entry i counts those that lasted at most
	// DurationBuckets[i] seconds and more than the bound before it; the
	// last entry, one past DurationBuckets, counts the longer ones and
	// those whose duration cannot be read (no start or end, or an end
	// before the start).
	EndedByDuration []int
	// Short counts the ended calls shorter than ShortCall; never one whose
	// duration cannot be read.
	Short int
	// HumanDetection counts the ended calls by human_detection_result:
	// every HumanDetectionResults key and HumanDetectionNone are present,
	// CallOther only when such a call was seen.
	HumanDetection map[string]int
	// ByAgent counts the window's calls by the id of their agent ("" for
	// a call that names none), when the query asked for it; else nil.
	ByAgent map[string]*AgentCalls
}

// AgentCalls is one agent's share of the window's calls.
type AgentCalls struct {
	Calls int
	// ByStatus and ByOutcome count as CallStats' maps do, but hold only
	// the keys seen.
	ByStatus  map[string]int
	ByOutcome map[string]int
	Short     int
}

func newCallDepth(q CallsQuery) CallDepth {
	d := CallDepth{ShortCall: q.ShortCall, MaxAgents: q.MaxAgents,
		EndedByDuration: make([]int, len(DurationBuckets)+1), HumanDetection: zeroCounts(HumanDetectionResults)}
	if d.ShortCall <= 0 {
		d.ShortCall = DefaultShortCall
	}
	if d.MaxAgents <= 0 {
		d.MaxAgents = DefaultMaxAgents
	}
	d.HumanDetection[HumanDetectionNone] = 0
	if q.ByAgent {
		d.ByAgent = map[string]*AgentCalls{}
	}
	return d
}

// Duration is how long an ended call lasted, and false when that cannot be
// read: its start or end is missing or unreadable, or it ends before it
// starts.
func (c Call) Duration() (time.Duration, bool) {
	if c.Start.IsZero() || c.End.IsZero() || c.End.Before(c.Start) {
		return 0, false
	}
	return c.End.Sub(c.Start), true
}

// add counts one call of the window, seen for the first time: the one
// place where a call is classified by duration, human detection and agent.
func (d *CallDepth) add(c Call) {
	short := false
	if c.Status == "ended" {
		bucket := len(DurationBuckets)
		if dur, ok := c.Duration(); ok {
			short = dur < d.ShortCall
			for i, b := range DurationBuckets {
				if dur.Seconds() <= b {
					bucket = i
					break
				}
			}
		}
		d.EndedByDuration[bucket]++
		if short {
			d.Short++
		}
		result := c.HumanDetection
		if result == "" {
			result = HumanDetectionNone
		}
		d.HumanDetection[result]++
	}
	if d.ByAgent == nil {
		return
	}
	a := d.ByAgent[c.Agent]
	if a == nil {
		a = &AgentCalls{ByStatus: map[string]int{}, ByOutcome: map[string]int{}}
		d.ByAgent[c.Agent] = a
	}
	a.Calls++
	a.ByStatus[c.Status]++
	if c.Outcome != "" {
		a.ByOutcome[c.Outcome]++
	}
	if short {
		a.Short++
	}
}

// humanDetection is human_detection_result: one of HumanDetectionResults,
// "" for null or none at all, CallOther for anything else, a value of
// another kind included: one odd call must not cost the walk.
type humanDetection string

func (h *humanDetection) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		*h = ""
		_, err := dec.ReadToken()
		return err
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*h = humanDetection(enumValue(tok.String(), HumanDetectionResults))
		if *h == "" {
			*h = CallOther // an empty string is a value, not null
		}
		return nil
	}
	*h = CallOther
	return dec.SkipValue()
}

// callAgent is agent: the agent's id, or in an answer that embeds the agent,
// the agent itself, of which only the id is read (its prompt and
// connection are skipped undecoded). Anything else reads as no agent,
// never as an error.
type callAgent string

func (a *callAgent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*a = ""
	switch dec.PeekKind() {
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*a = callAgent(labelText(tok.String()))
		return nil
	case '{':
		var agent struct {
			ID jsontext.Value `json:"id"`
		}
		if err := json.UnmarshalDecode(dec, &agent, decodeOptions); err != nil {
			return err
		}
		if agent.ID.Kind() == '"' {
			var id string
			if json.Unmarshal(agent.ID, &id, decodeOptions) == nil {
				*a = callAgent(labelText(id))
			}
		}
		return nil
	}
	return dec.SkipValue()
}
