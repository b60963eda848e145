package vocodetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Call is one call as the fake serves it on GET /v1/calls/list, with the
// fields a real call carries, heavy ones included.
type Call struct {
	ID string
	// Status is served as status; "" leaves the field out, which the API
	// reads as not_started.
	Status string
	// Stage and Outcome are served as stage and stage_outcome; "" serves
	// null.
	Stage   string
	Outcome string
	// Start is served as start_time in the fake's TimeFormat (or the
	// call's own, when set); zero serves null, a call not started.
	Start      time.Time
	TimeFormat TimeFormat
	// End is served as end_time; zero serves null, or for a call ended or
	// in error that has a Start, 90 seconds after it.
	End time.Time
	// StartJSON and EndJSON, when set, are served as start_time and
	// end_time instead, as they are (an unreadable time, say); the fake
	// still sorts by Start.
	StartJSON, EndJSON json.RawMessage
	// Transcript, ErrorMessage, FromNumber and ToNumber are served as
	// transcript, error_message, from_number and to_number.
	Transcript   string
	ErrorMessage string
	FromNumber   string
	ToNumber     string
	// Connection, when set, is served embedded as
	// telephony_account_connection, credentials included.
	Connection *Connection
	// Agent is served as agent, an agent's id; "" serves AgentID(1).
	Agent string
	// HumanDetection is served as human_detection_result; "" serves
	// "human" unless NullHumanDetection asks for null.
	HumanDetection     string
	NullHumanDetection bool
	// Raw, when set, is served verbatim as the item.
	Raw json.RawMessage
}

// TimeFormat is how a fake serves start_time.
type TimeFormat int

// The forms of start_time: NormalizedCall's number, in seconds or
// milliseconds, or Call's string.
const (
	TimeDefault      TimeFormat = iota // the fake's format (WithCallTimeFormat); seconds for the fake itself
	TimeSeconds                        // a number of seconds, with a fraction
	TimeMilliseconds                   // a number of milliseconds
	TimeRFC3339                        // an RFC 3339 string
)

// SortMode is what a fake does with sort_column=start_time and sort_desc.
type SortMode int

// How a fake answers a sorted request.
const (
	SortHonoured SortMode = iota // newest first (sort_desc=true) or oldest first, calls not started placed by the NullsOrder
	SortIgnored                  // the calls in the order they are held, as an API without the sort
	SortRejected                 // 422 naming sort_column, as an API that validates it
)

// NullsOrder is where a fake that honours the sort puts the calls without
// a start time (null start_time).
type NullsOrder int

// Where the calls without a start time sort.
const (
	NullsPostgres    NullsOrder = iota // first newest first, last oldest first: PostgreSQL's default
	NullsMySQL                         // last newest first, first oldest first: MySQL's, where null is the least value
	NullsAlwaysFirst                   // first both ways, as NULLS FIRST asks
)

// WithCallNulls sets where the fake sorts calls without a start time.
func WithCallNulls(n NullsOrder) Option { return func(a *API) { a.nulls = n } }

// WithCalls sets the calls the fake serves, in the order an unsorted list
// holds them; it serves none unless told.
func WithCalls(calls []Call) Option { return func(a *API) { a.pendingCalls = calls } }

// WithCallTimeFormat sets how start_time is served for calls that do not
// set their own.
func WithCallTimeFormat(f TimeFormat) Option { return func(a *API) { a.timeFormat = f } }

// WithCallSort sets what the fake does with a sort of the calls list.
func WithCallSort(m SortMode) Option { return func(a *API) { a.sortMode = m } }

// WithCallArrivals makes n new calls arrive before each page of the calls
// list is served, at the head of the list: started now, in progress, so
// that a walk sees the list shift under it.
func WithCallArrivals(n int) Option { return func(a *API) { a.arrivals = n } }

// WithUnstartedArrivals makes n calls not started (null start_time)
// arrive before each page of the calls list is served, at the head of the
// list, so that a walk sees the block of calls without a start shift.
func WithUnstartedArrivals(n int) Option { return func(a *API) { a.unstartedArrivals = n } }

// SetCallSort changes what the fake does with a sort of the calls list;
// safe while it serves.
func (a *API) SetCallSort(m SortMode) {
	a.mu.Lock()
	a.sortMode = m
	a.mu.Unlock()
}

// servedCall is a call with its encoding.
type servedCall struct {
	start time.Time
	json  json.RawMessage
}

// SetCalls replaces the calls the fake serves; safe while it serves.
func (a *API) SetCalls(calls []Call) {
	served := a.encodeCalls(calls)
	a.mu.Lock()
	a.calls = served
	a.mu.Unlock()
}

// ArriveCalls puts calls at the head of the list, as calls placed since
// the walk began: a page asked for after it serves what the previous
// page ended with again.
func (a *API) ArriveCalls(calls ...Call) {
	served := a.encodeCalls(calls)
	a.mu.Lock()
	a.calls = append(served, a.calls...)
	a.mu.Unlock()
}

func (a *API) encodeCalls(calls []Call) []servedCall {
	served := make([]servedCall, len(calls))
	for i, c := range calls {
		served[i] = servedCall{start: c.Start, json: c.encode(a.timeFormat)}
	}
	return served
}

// arrive adds the fake's own arrivals (WithCallArrivals) for one request.
func (a *API) arrive() {
	if a.arrivals <= 0 && a.unstartedArrivals <= 0 {
		return
	}
	now := time.Now()
	calls := make([]Call, 0, a.arrivals+a.unstartedArrivals)
	for range a.arrivals {
		calls = append(calls, Call{ID: ID("e", int(a.arrived.Add(1))), Status: "in_progress", Stage: "created", Start: now,
			FromNumber: "+12025550199", ToNumber: "+12025550100"})
	}
	for range a.unstartedArrivals {
		calls = append(calls, Call{ID: ID("e", int(a.arrived.Add(1))), Status: "not_started", ToNumber: "+12025550100"})
	}
	a.ArriveCalls(calls...)
}

// callSort is the sort a request of the calls list asks for.
type callSort uint8

const (
	unsorted callSort = iota
	newestFirst
	oldestFirst
)

// sortAsked reports the sort r asks for, and whether it names a sort
// parameter at all.
func sortAsked(r *http.Request) (sort callSort, named bool) {
	q := r.URL.Query()
	named = q.Has("sort_column") || q.Has("sort_desc")
	if q.Get("sort_column") != "start_time" {
		return unsorted, named
	}
	switch q.Get("sort_desc") {
	case "true":
		return newestFirst, named
	case "false":
		return oldestFirst, named
	}
	return unsorted, named
}

// callsBody encodes one page of the calls list.
func (a *API) callsBody(page, size int, sort callSort) []byte {
	a.mu.Lock()
	calls := a.calls
	mode, nulls := a.sortMode, a.nulls
	a.mu.Unlock()
	if sort != unsorted && mode == SortHonoured {
		nullsFirst := nulls == NullsAlwaysFirst || (sort == newestFirst) == (nulls == NullsPostgres)
		calls = slices.Clone(calls)
		slices.SortStableFunc(calls, func(x, y servedCall) int {
			xNull, yNull := x.start.IsZero(), y.start.IsZero()
			switch {
			case xNull && yNull:
				return 0
			case xNull || yNull:
				if xNull == nullsFirst {
					return -1
				}
				return 1
			case sort == newestFirst:
				return y.start.Compare(x.start)
			}
			return x.start.Compare(y.start)
		})
	}
	items := make([]json.RawMessage, len(calls))
	for i, c := range calls {
		items[i] = c.json
	}
	return a.pageBody(items, page, size)
}

func (c Call) encode(def TimeFormat) json.RawMessage {
	if c.Raw != nil {
		return c.Raw
	}
	m := map[string]any{
		"id": c.ID, "user_id": userID, "error_message": nil, "recording_available": false,
		"transcript": nil, "human_detection_result": "human", "do_not_call_result": nil,
		"telephony_id": "CA" + c.ID, "stage": nil, "stage_outcome": nil,
		"telephony_metadata": map[string]any{"type": "telephony_metadata_twilio", "call_sid": "CA" + c.ID,
			"call_status": "completed"},
		"start_time": nil, "end_time": nil, "to_number": c.ToNumber, "from_number": c.FromNumber,
		"agent": AgentID(1), "telephony_provider": "twilio", "agent_phone_number": c.FromNumber,
		"hipaa_compliant": false, "on_no_human_answer": "continue",
		"context":                   map[string]string{"customer_name": "Ada", "order": "1234"},
		"run_do_not_call_detection": false, "telephony_account_connection": nil, "telephony_params": nil,
	}
	if c.Agent != "" {
		m["agent"] = c.Agent
	}
	switch {
	case c.NullHumanDetection:
		m["human_detection_result"] = nil
	case c.HumanDetection != "":
		m["human_detection_result"] = c.HumanDetection
	}
	if c.Status != "" {
		m["status"] = c.Status
	}
	if c.Stage != "" {
		m["stage"] = c.Stage
	}
	if c.Outcome != "" {
		m["stage_outcome"] = c.Outcome
	}
	if c.Transcript != "" {
		m["transcript"] = c.Transcript
	}
	if c.ErrorMessage != "" {
		m["error_message"] = c.ErrorMessage
	}
	if c.Connection != nil {
		m["telephony_account_connection"] = c.Connection.encode()
	}
	f := cmp.Or(c.TimeFormat, def, TimeSeconds)
	end := c.End
	if !c.Start.IsZero() {
		m["start_time"] = formatTime(c.Start, f)
		if end.IsZero() && (c.Status == "ended" || c.Status == "error") {
			end = c.Start.Add(90 * time.Second)
		}
	}
	if !end.IsZero() {
		m["end_time"] = formatTime(end, f)
	}
	if c.StartJSON != nil {
		m["start_time"] = c.StartJSON
	}
	if c.EndJSON != nil {
		m["end_time"] = c.EndJSON
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings, numbers, maps and encoded JSON: cannot fail
	}
	return b
}

func formatTime(t time.Time, f TimeFormat) any {
	switch f {
	case TimeMilliseconds:
		return json.Number(strconv.FormatInt(t.UnixMilli(), 10))
	case TimeRFC3339:
		return t.UTC().Format(time.RFC3339Nano)
	}
	return json.Number(strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', 6, 64))
}

// Calls returns a deterministic list of n calls, newest first, started at
// even intervals from now back over spread: call i started i*spread/n
// before now. They cycle through the statuses, stages and outcomes of
// the spec (every tenth has not started and has no start_time), carry a
// transcript of transcriptBytes bytes and callers' numbers, the ones in
// error an error_message, and every fourth an embedded Twilio connection
// of conns with its credentials (when conns has one). They are spread over
// a handful of agents and human detection results (see spreadOverAgents),
// and the ended ones over durations (see lasts).
func Calls(n int, now time.Time, spread time.Duration, transcriptBytes int, conns []Connection) []Call {
	var twilio []Connection
	for _, c := range conns {
		if c.Type == "account_connection_twilio" {
			twilio = append(twilio, c)
		}
	}
	stages := []string{"created", "picked_up", "transfer_started", "transfer_successful"}
	outcomes := []string{"human_unanswered", "call_did_not_connect", "human_disconnected",
		"bot_disconnected", "transfer_unanswered", "transfer_disconnected"}
	transcript := Transcript(transcriptBytes)
	calls := make([]Call, n)
	for i := range calls {
		c := Call{
			ID:         ID("c", i),
			Start:      now.Add(-time.Duration(i) * spread / time.Duration(max(n, 1))),
			Transcript: transcript,
			FromNumber: fmt.Sprintf("+1202555%04d", i%10_000),
			ToNumber:   fmt.Sprintf("+1415555%04d", (i*7)%10_000),
		}
		switch i % 10 {
		case 0:
			c.Status, c.Start, c.Transcript = "not_started", time.Time{}, ""
		case 1, 2:
			c.Status, c.Stage = "in_progress", stages[(i/10+i)%len(stages)]
		case 3:
			c.Status, c.Stage, c.Outcome = "error", "created", outcomes[(i/10)%2]
			c.ErrorMessage = "Twilio error 31005: connection failed"
		default:
			c.Status, c.Stage, c.Outcome = "ended", stages[i%2], outcomes[(i/10+i)%len(outcomes)]
		}
		if i%4 == 3 && len(twilio) > 0 {
			conn := twilio[(i/4)%len(twilio)]
			c.Connection = &conn
		}
		spreadOverAgents(&c, i)
		lasts(&c, i)
		calls[i] = c
	}
	return calls
}

// Transcript returns a transcript of n bytes, lines of a bot and a human.
func Transcript(n int) string {
	const line = "BOT: Hello, this is the front desk, how can I help you today?\nHUMAN: I would like to move my appointment to Thursday.\n"
	if n <= 0 {
		return ""
	}
	return strings.Repeat(line, n/len(line)+1)[:n]
}

// WithCallSecrets returns calls with secret planted wherever a call
// carries something that must never leave the exporter: its transcript,
// callers' numbers, error_message and the credentials of its embedded
// connection, which every call gets (one of conns, or a connection of its
// own).
func WithCallSecrets(calls []Call, secret string) []Call {
	out := make([]Call, len(calls))
	for i, c := range calls {
		c.Transcript = "HUMAN: my card number is " + secret
		c.FromNumber, c.ToNumber = "+1"+secret, "+44"+secret
		c.ErrorMessage = "failed with token " + secret
		c.Connection = withSecret(c.Connection, TwilioConnection(i, 1, false), secret)
		out[i] = c
	}
	return out
}

// CallAgents is how many agents of Agents the calls of Calls name;
// GoneAgent is the agent every thirteenth call names, which no agents list
// holds (deleted since).
const CallAgents = 5

// GoneAgent is an agent id that Agents never returns.
var GoneAgent = ID("g", 1)

// spreadOverAgents gives call i of Calls its agent and human detection
// result: agents AgentID(0) to AgentID(CallAgents-1), weighted so that
// they rank apart (agent k takes about twice the calls of agent k+1), and
// GoneAgent for every thirteenth; human, no_human, null and an unlisted
// value in turn. Half the calls in error go to AgentID(3), the broken
// agent: about half of its finished calls are errors, where the others
// have about one in seven.
func spreadOverAgents(c *Call, i int) {
	// i%31 falls in [0,16) for agent 0, [16,24) agent 1, [24,28) agent 2,
	// [28,30) agent 3, 30 agent 4.
	k := 0
	for _, bound := range []int{16, 24, 28, 30} {
		if i%31 >= bound {
			k++
		}
	}
	c.Agent = AgentID(k)
	switch {
	case c.Status == "error" && i%20 == 3:
		c.Agent = AgentID(3)
	case i%13 == 12:
		c.Agent = GoneAgent
	}
	switch i % 4 {
	case 1:
		c.HumanDetection = "no_human"
	case 2:
		c.NullHumanDetection = true
	case 3:
		if i%8 == 7 {
			c.HumanDetection = "machine_start"
		}
	}
}

// callDurations are the durations lasts gives ended calls in turn: two of
// nine are shorter than 10 seconds, one is longer than 30 minutes.
var callDurations = []time.Duration{3 * time.Second, 8 * time.Second, 25 * time.Second, 45 * time.Second,
	90 * time.Second, 200 * time.Second, 400 * time.Second, 900 * time.Second, 2000 * time.Second}

// lasts gives ended call i of Calls its end: one of callDurations after its
// start, and for every seventeenth an end 5 seconds before its start (a
// duration that cannot be read). The end is served in the call's time form,
// or, for every sixth, as an RFC 3339 string and, for the one after, in
// milliseconds, so that start and end come in different forms.
func lasts(c *Call, i int) {
	if c.Status != "ended" || c.Start.IsZero() {
		return
	}
	c.End = c.Start.Add(callDurations[(i*7)%len(callDurations)])
	if i%17 == 16 {
		c.End = c.Start.Add(-5 * time.Second)
	}
	switch i % 6 {
	case 4:
		c.EndJSON, _ = json.Marshal(formatTime(c.End, TimeRFC3339))
	case 5:
		c.EndJSON, _ = json.Marshal(formatTime(c.End, TimeMilliseconds))
	}
}
