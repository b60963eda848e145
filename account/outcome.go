package account

import (
	"errors"
	"time"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// The parts a walk of an account reads, the values of the `collector` label:
// the connection list (always read; vocode_up is its success), usage, the
// numbers list, the agents list and the calls list.
const (
	CollectorConnections = "connections"
	CollectorUsage       = "usage"
	CollectorNumbers     = "numbers"
	CollectorAgents      = "agents"
	CollectorCalls       = "calls"
)

// Enabled says which parts of the API a walk reads besides the connection
// list, from --[no-]collector.usage, --[no-]collector.numbers,
// --[no-]collector.agents and --[no-]collector.calls.
type Enabled struct {
	Usage   bool
	Numbers bool
	Agents  bool
	Calls   bool
}

// Names lists the enabled collectors, connections first.
func (e Enabled) Names() []string {
	names := []string{CollectorConnections}
	if e.Usage {
		names = append(names, CollectorUsage)
	}
	if e.Numbers {
		names = append(names, CollectorNumbers)
	}
	if e.Agents {
		names = append(names, CollectorAgents)
	}
	if e.Calls {
		names = append(names, CollectorCalls)
	}
	return names
}

// WalkStatus describes a walk that ended, for the status page. It holds
// nothing the API sent but counts and a classification: no key, credential
// or error text can reach a page through it.
type WalkStatus struct {
	Ended    time.Time
	Duration time.Duration
	Pages    int
	// Reason is why the walk failed, "" if it succeeded; Status is the
	// HTTP status of the failed request, 0 when none came.
	Reason vocode.Reason
	Status int
	// Connections counts a successful walk's connections by type
	// ("twilio", "openai", ...).
	Connections map[string]int
	// Failed holds the reason of each other collector (usage, numbers,
	// agents, calls) that failed in this walk.
	Failed map[string]vocode.Reason
	// Calls counts the calls of the window when the calls collector ran
	// and succeeded; nil otherwise.
	Calls *CallCounts
	// Agents is the number of agents when the agents collector ran and
	// succeeded; -1 otherwise.
	Agents int
}

// CallCounts is what the status page shows of a calls walk: counts only.
type CallCounts struct {
	Total, Errors int
	// Ended counts the ended calls, Short those of them shorter than the
	// short-call threshold.
	Ended, Short int
	Window       time.Duration
	Truncated    bool
}

// Outcome is what one scrape of an account got from each collector. The
// collectors succeed or fail apart: a failed usage request never touches
// vocode_up or the connection series, and a failed connection walk never
// hides the numbers.
type Outcome struct {
	Connections Part[*vocode.Result]
	Usage       Part[*vocode.Usage]
	Numbers     Part[*vocode.NumberList]
	Agents      Part[*vocode.AgentList]
	Calls       Part[*vocode.CallStats]
	// AgentNames is the agents list that names the per-agent calls
	// series: this walk's when it succeeded, else the account's last one
	// that did, so that one failed agents walk does not rename every
	// per-agent series (names to ids) for a scrape; nil before any
	// succeeded, or with the agents collector off (ids then).
	AgentNames *vocode.AgentList
}

// Part is one collector's share of an outcome: its result, or why there is
// none. Ran is false for a collector that is turned off.
type Part[T any] struct {
	Ran      bool
	Value    T
	Err      error
	Duration time.Duration
}

// Errors lists the error of each collector that ran, by collector name.
func (o Outcome) Errors() map[string]error {
	errs := map[string]error{CollectorConnections: o.Connections.Err}
	if o.Usage.Ran {
		errs[CollectorUsage] = o.Usage.Err
	}
	if o.Numbers.Ran {
		errs[CollectorNumbers] = o.Numbers.Err
	}
	if o.Agents.Ran {
		errs[CollectorAgents] = o.Agents.Err
	}
	if o.Calls.Ran {
		errs[CollectorCalls] = o.Calls.Err
	}
	return errs
}

// timed runs one collector's request.
func timed[T any](f func() (T, error)) Part[T] {
	start := time.Now()
	v, err := f()
	return Part[T]{Ran: true, Value: v, Err: err, Duration: time.Since(start)}
}

func newWalkStatus(o Outcome, took time.Duration) *WalkStatus {
	s := &WalkStatus{Ended: time.Now(), Duration: took, Failed: map[string]vocode.Reason{}, Agents: -1}
	if a := o.Agents; a.Ran && a.Err == nil {
		s.Agents = len(a.Value.Agents)
	}
	if cs := o.Calls; cs.Ran && cs.Err == nil {
		c := &CallCounts{Errors: cs.Value.ByStatus["error"], Ended: cs.Value.ByStatus["ended"], Short: cs.Value.Depth.Short,
			Window: cs.Value.Window, Truncated: cs.Value.Truncated}
		for _, n := range cs.Value.ByStatus {
			c.Total += n
		}
		s.Calls = c
	}
	c := o.Connections
	if c.Value != nil {
		s.Pages = c.Value.Pages
	}
	for name, err := range o.Errors() {
		if err != nil && name != CollectorConnections {
			s.Failed[name] = vocode.ReasonOf(err)
		}
	}
	if c.Err != nil {
		s.Reason = vocode.ReasonOf(c.Err)
		var ve *vocode.Error
		if errors.As(c.Err, &ve) {
			s.Status = ve.Status
		}
		return s
	}
	s.Connections = map[string]int{"twilio": 0, "openai": 0}
	for _, conn := range c.Value.Connections {
		s.Connections[conn.Kind()]++
	}
	return s
}
