package vocode_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// FuzzDecodeCallsPage feeds the calls page decoder anything at all.
// Whatever the input: no panic; an error or a page, never both or neither;
// an error that quotes nothing of the input; a page that agrees with the
// JSON decoder's own reading of the five fields, keeps enum values only
// as the package's own strings, and holds a planted secret only where the
// input put it in an id.
func FuzzDecodeCallsPage(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecodeCallsPage.
	f.Add([]byte(`{"items":[],"page":1,"size":100,"has_more":false,"total":0,"total_is_estimated":false}`), uint16(0))
	f.Add([]byte(`{"items":[{"id":"c","status":"in_progress","stage":"picked_up","stage_outcome":null,"start_time":1764680400.25,`+
		`"transcript":"@SECRET@","from_number":"+1@SECRET@","error_message":"@SECRET@",`+
		`"telephony_account_connection":{"id":"t","credentials":{"twilio_auth_token":"@SECRET@"}}},`+
		`{"id":"d","status":"ended","start_time":"2025-12-02T13:00:00Z"},{"id":"e","start_time":1764680400000}],"has_more":true}`), uint16(60))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		checkDecodeCalls(t, data, false)
		checkDecodeCalls(t, bytes.ReplaceAll(data, []byte(fuzzPlaceholder), []byte(fuzzSecret)), true)
		pos := int(at) % (len(data) + 1)
		planted := append(append(append([]byte{}, data[:pos]...), fuzzSecret...), data[pos:]...)
		checkDecodeCalls(t, planted, true)
	})
}

// callMirror reads the five fields with plain types, start_time raw.
type callMirror struct {
	ID      string         `json:"id"`
	Status  string         `json:"status"`
	Stage   string         `json:"stage"`
	Outcome string         `json:"stage_outcome"`
	Start   jsontext.Value `json:"start_time"`
	End     jsontext.Value `json:"end_time"`
	depthMirror
}

func checkDecodeCalls(t *testing.T, data []byte, secret bool) {
	t.Helper()
	p, err := vocode.DecodeCallsPage(bytes.NewReader(data))
	if (p == nil) == (err == nil) {
		t.Fatalf("DecodeCallsPage returned page %v and error %v: want exactly one", p, err)
	}
	checkErrorText(t, err, secret)

	var mirror struct {
		Items   *[]callMirror `json:"items"`
		HasMore *bool         `json:"has_more"`
	}
	valid := json.Unmarshal(data, &mirror, oracleOptions) == nil && mirror.Items != nil && mirror.HasMore != nil
	if valid {
		for _, m := range *mirror.Items {
			valid = valid && m.ID != ""
		}
	}
	if valid != (err == nil) {
		t.Fatalf("DecodeCallsPage error %v, but the JSON decoder finds the page valid: %v", err, valid)
	}
	if err != nil {
		return
	}
	items := *mirror.Items
	if p.HasMore != *mirror.HasMore || len(p.Items) != len(items) {
		t.Fatalf("has_more %v and %d calls, the JSON decoder sees %v and %d", p.HasMore, len(p.Items), *mirror.HasMore, len(items))
	}
	ids := ""
	for i, c := range p.Items {
		m := items[i]
		ids += m.ID + "\x00" + c.Agent + "\x00"
		checkCallDepth(t, i, c, m.depthMirror)
		status := cmpOr(m.Status, "not_started")
		if c.ID != m.ID || c.Status != enum(status, vocode.CallStatuses) || c.Stage != enum(m.Stage, vocode.CallStages) ||
			c.Outcome != enum(m.Outcome, vocode.CallOutcomes) {
			t.Fatalf("call %d is %+v, the JSON decoder sees %+v", i, c, m)
		}
		notStarted := len(m.Start) == 0 || m.Start.Kind() == 'n'
		if c.NotStarted != notStarted {
			t.Fatalf("call %d: not started %v, start_time %s", i, c.NotStarted, m.Start)
		}
		states := 0
		for _, b := range []bool{!c.Start.IsZero(), c.NotStarted, c.BadStart} {
			if b {
				states++
			}
		}
		if states != 1 {
			t.Fatalf("call %d: start %v, not started %v, unreadable %v: want exactly one", i, c.Start, c.NotStarted, c.BadStart)
		}
		if !c.Start.IsZero() && m.Start.Kind() != '0' && m.Start.Kind() != '"' {
			t.Fatalf("call %d: a start time from %s", i, m.Start)
		}
		if c.Start.Location().String() != "UTC" {
			t.Fatalf("call %d: start time in %s", i, c.Start.Location())
		}
		// Both times read by the same rules and bounds: a time kept is
		// from a number or a string, in UTC, after the epoch and up to
		// the year 5138.
		for name, tm := range map[string]struct {
			t   time.Time
			raw jsontext.Value
		}{"start": {c.Start, m.Start}, "end": {c.End, m.End}} {
			if tm.t.IsZero() {
				continue
			}
			if k := tm.raw.Kind(); k != '0' && k != '"' {
				t.Fatalf("call %d: a %s time from %s", i, name, tm.raw)
			}
			if tm.t.Location() != time.UTC || !tm.t.After(time.Unix(0, 0)) || tm.t.After(time.Unix(1e11, 0)) {
				t.Fatalf("call %d: %s time %v out of bounds", i, name, tm.t)
			}
		}
	}
	if secret && !strings.Contains(ids, fuzzSecret) && strings.Contains(fmt.Sprintf("%+v", p), fuzzSecret) {
		t.Fatalf("the secret reached the page from a field it does not keep: %+v", p)
	}
}

// enum is what the decoder should make of an enum's text: the value, or
// "other" outside the enum, or "" for none.
func enum(s string, values []string) string {
	switch {
	case s == "":
		return ""
	case slices.Contains(values, s):
		return s
	}
	return vocode.CallOther
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
