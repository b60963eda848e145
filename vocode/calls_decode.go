package vocode

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Call is what the exporter reads of one call. Nothing else of it
// (transcript, numbers, context, telephony metadata, an embedded
// connection's credentials) is decoded.
type Call struct {
	ID string
	// Status is one of CallStatuses, or CallOther; the spec's default,
	// not_started, when the API leaves it out.
	Status string
	// Stage and Outcome are one of CallStages and CallOutcomes, CallOther,
	// or "" for none.
	Stage   string
	Outcome string
	// Start is when the call started: zero if it has not (NotStarted) or
	// start_time could not be read (BadStart).
	Start      time.Time
	NotStarted bool
	BadStart   bool
	// End is when the call ended: zero if end_time is null or could not be
	// read. It places a finished call whose start is not known, and gives
	// an ended call's duration.
	End time.Time
	// HumanDetection is human_detection_result: one of
	// HumanDetectionResults, CallOther, or "" for null or none.
	HumanDetection string
	// Agent is the id of the call's agent, "" when it names none.
	Agent string
}

func (c Call) itemID() string { return c.ID }

// Finished reports whether the call's status is final (error or ended):
// only such a call is placed by its end when its start is not known.
func (c Call) Finished() bool { return c.Status == "error" || c.Status == "ended" }

// CallPage is one decoded page of GET /v1/calls/list.
type CallPage = PageOf[Call]

// callJSON mirrors the fields of NormalizedCall the exporter needs; the
// decoder skips the others without decoding them.
type callJSON struct {
	ID      string   `json:"id"`
	Status  string   `json:"status"`
	Stage   string   `json:"stage"`
	Outcome string   `json:"stage_outcome"`
	Start   callTime `json:"start_time"`
	End     callTime `json:"end_time"`
	// The deeper counts' fields (CallDepth).
	Human humanDetection `json:"human_detection_result"`
	Agent callAgent      `json:"agent"`
}

// callTime is start_time or end_time: a number of seconds since the epoch
// (of milliseconds above 1e11), an RFC 3339 string, or null. Anything else
// reads as unreadable, never as an error: one odd call must not cost the
// walk.
type callTime struct {
	t     time.Time
	state timeState
}

type timeState uint8

const (
	timeNull timeState = iota // null, or no field at all
	timeRead
	timeBad
)

// Numbers above msThreshold are milliseconds. A time is plausible after
// the Unix epoch and up to maxEpochSeconds (year 5138), in whatever form
// it came: a zero time.Time or year 1 from a string is as unreadable as 0
// from a number.
const (
	msThreshold     = 1e11
	maxEpochSeconds = 1e11
)

var maxCallTime = time.Unix(maxEpochSeconds, 0)

func (s *callTime) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	*s = parseCallTime(v)
	return nil
}

func parseCallTime(v jsontext.Value) callTime {
	var t time.Time
	switch v.Kind() {
	case 'n':
		return callTime{state: timeNull}
	case '0':
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return callTime{state: timeBad}
		}
		// To whole microseconds, the precision of Python's floats of
		// seconds: a float's nanoseconds are noise.
		micros := f * 1e6
		if f > msThreshold {
			micros = f * 1e3
		}
		if !(micros > 0 && micros <= maxEpochSeconds*1e6) {
			return callTime{state: timeBad} // also keeps the conversion below in range
		}
		t = time.UnixMicro(int64(math.Round(micros)))
	case '"':
		b, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return callTime{state: timeBad}
		}
		for _, layout := range timeLayouts {
			if t, err = time.Parse(layout, string(b)); err == nil {
				break
			}
		}
		if err != nil {
			return callTime{state: timeBad}
		}
	default:
		return callTime{state: timeBad}
	}
	if !t.After(time.Unix(0, 0)) || t.After(maxCallTime) {
		return callTime{state: timeBad}
	}
	return callTime{t: t.UTC(), state: timeRead}
}

// timeLayouts are the string forms of a call's times read: RFC 3339, and
// the ISO 8601 Python writes for a datetime without a zone, read as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// DecodeCallsPage reads one page of the calls list from r. Errors
// describe what is wrong with the page without quoting it, so they are
// safe to log.
func DecodeCallsPage(r io.Reader) (*CallPage, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading page: %w", err)
	}
	return decodeCallsPage(b)
}

func decodeCallsPage(b []byte) (*CallPage, error) {
	return decodeListItems(b, callOf)
}

func callOf(i int, it *callJSON) (Call, error) {
	if it.ID == "" {
		return Call{}, fmt.Errorf("item %d has no id", i)
	}
	c := Call{
		ID:      it.ID,
		Status:  enumValue(it.Status, CallStatuses),
		Stage:   enumValue(it.Stage, CallStages),
		Outcome: enumValue(it.Outcome, CallOutcomes),
		End:     it.End.t,
		// The package's own strings or label text: nothing of the page
		// is kept by them.
		HumanDetection: string(it.Human),
		Agent:          string(it.Agent),
	}
	if c.Status == "" {
		c.Status = CallStatuses[0] // the spec's default
	}
	switch it.Start.state {
	case timeNull:
		c.NotStarted = true
	case timeRead:
		c.Start = it.Start.t
	default:
		c.BadStart = true
	}
	return c, nil
}

// enumValue is s as one of values, CallOther when it is none of them, or
// "" for none at all. The value returned is the package's own string, so
// that nothing of the page is kept by it.
func enumValue(s string, values []string) string {
	if s == "" {
		return ""
	}
	for _, v := range values {
		if s == v {
			return v
		}
	}
	return CallOther
}
