package vocode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeCallsPage(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "calls", "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := DecodeCallsPage(f)
	if err != nil {
		t.Fatal(err)
	}
	want := &CallPage{Page: 1, HasMore: true, Total: 9, HasTotal: true, Items: []Call{
		{ID: "c0000001-0000-4000-8000-000000000001", Status: "in_progress", Stage: "transfer_started",
			Start: time.Date(2025, 12, 2, 13, 0, 0, 250e6, time.UTC), HumanDetection: "human", Agent: "a0000001-0000-4000-8000-000000000001"},
		{ID: "c0000002-0000-4000-8000-000000000002", Status: "error", Stage: "created", Outcome: "call_did_not_connect",
			Start: time.Date(2025, 12, 2, 12, 55, 0, 0, time.UTC), Agent: "a"},
		{ID: "c0000003-0000-4000-8000-000000000003", Status: "ended", Stage: "picked_up", Outcome: "bot_disconnected",
			Start: time.Date(2025, 12, 2, 11, 0, 0, 500e6, time.UTC), Agent: "a"},
		{ID: "c0000004-0000-4000-8000-000000000004", Status: "not_started", NotStarted: true, Agent: "a"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// Nothing of the transcript, numbers, error message or credentials
	// reaches a value of ours.
	printed := fmt.Sprintf("%+v %#v", got, got.Items)
	if strings.Contains(printed, "CANARY") {
		t.Errorf("a canary reached the page: %s", printed)
	}
}

// start_time and end_time in each form the API has used, and forms it
// should not use, which never fail the page. Strings and numbers have the
// same bounds: after the Unix epoch, up to the year 5138.
func TestCallTimes(t *testing.T) {
	sec := time.Date(2025, 12, 2, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		value string // "" leaves the field out
		want  Call   // Start, NotStarted, BadStart
	}{
		{`1764680400`, Call{Start: sec}},
		{`1764680400.5`, Call{Start: sec.Add(500 * time.Millisecond)}},
		{`1.7646804e9`, Call{Start: sec}},
		{`1764680400000`, Call{Start: sec}},
		{`1764680400123`, Call{Start: sec.Add(123 * time.Millisecond)}},
		{`"2025-12-02T13:00:00Z"`, Call{Start: sec}},
		{`"2025-12-02T14:00:00.25+01:00"`, Call{Start: sec.Add(250 * time.Millisecond)}},
		{`"2025-12-02T13:00:00.123456"`, Call{Start: sec.Add(123456 * time.Microsecond)}}, // Python, no zone: UTC
		{`"2025-12-02T13:00:00\u005a"`, Call{Start: sec}},
		{`null`, Call{NotStarted: true}},
		{``, Call{NotStarted: true}},
		{`"yesterday"`, Call{BadStart: true}},
		{`""`, Call{BadStart: true}},
		{`"1764680400"`, Call{BadStart: true}},
		{`0`, Call{BadStart: true}},
		{`-5`, Call{BadStart: true}},
		{`1e300`, Call{BadStart: true}},
		{`true`, Call{BadStart: true}},
		{`{"seconds":1}`, Call{BadStart: true}},
		{`[1764680400]`, Call{BadStart: true}},
		{`"0001-01-01T00:00:00Z"`, Call{BadStart: true}}, // Go's and many encoders' zero time
		{`"1970-01-01T00:00:00Z"`, Call{BadStart: true}},
		{`"1969-12-31T23:59:59Z"`, Call{BadStart: true}},
		{`"1970-01-01T00:00:01Z"`, Call{Start: time.Unix(1, 0).UTC()}},
		{`1`, Call{Start: time.Unix(1, 0).UTC()}},
		{`"5138-11-16T09:46:40Z"`, Call{Start: time.Unix(1e11, 0).UTC()}},
		{`1e11`, Call{Start: time.Unix(1e11, 0).UTC()}},
		{`"5138-11-16T09:46:41Z"`, Call{BadStart: true}},
		{`"9999-12-31T23:59:59Z"`, Call{BadStart: true}},
		{`1e14`, Call{Start: time.Unix(1e11, 0).UTC()}}, // milliseconds, at the bound
		{`100000000000001`, Call{BadStart: true}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			item := `{"id":"c","status":"ended"`
			if tt.value != "" {
				item += `,"start_time":` + tt.value
			}
			p, err := decodeCallsPage([]byte(`{"items":[` + item + `}],"has_more":false}`))
			if err != nil {
				t.Fatalf("a start_time failed the page: %v", err)
			}
			want := tt.want
			want.ID, want.Status = "c", "ended"
			if got := p.Items[0]; !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			// end_time, read the same way: only a readable time is kept.
			item = `{"id":"c","status":"ended","start_time":null`
			if tt.value != "" {
				item += `,"end_time":` + tt.value
			}
			p, err = decodeCallsPage([]byte(`{"items":[` + item + `}],"has_more":false}`))
			if err != nil {
				t.Fatalf("an end_time failed the page: %v", err)
			}
			if got := p.Items[0].End; !got.Equal(tt.want.Start) || got.Location() != time.UTC {
				t.Errorf("end %v, want %v", got, tt.want.Start)
			}
		})
	}
}

// status, stage and stage_outcome map onto the spec's enums; anything else
// is CallOther, and the values kept are the package's own strings.
func TestCallEnums(t *testing.T) {
	tests := []struct {
		fields string
		want   Call
	}{
		{`"status":"ended","stage":"picked_up","stage_outcome":"human_disconnected"`,
			Call{Status: "ended", Stage: "picked_up", Outcome: "human_disconnected"}},
		{``, Call{Status: "not_started"}}, // the spec's default
		{`"status":null,"stage":null,"stage_outcome":null`, Call{Status: "not_started"}},
		{`"status":"ringing","stage":"queued","stage_outcome":"voicemail"`,
			Call{Status: CallOther, Stage: CallOther, Outcome: CallOther}},
		{`"status":"ENDED"`, Call{Status: CallOther}},
		{`"status":"end\u0065d"`, Call{Status: "ended"}},
		{`"status":"ended\u0000"`, Call{Status: CallOther}},
	}
	for _, tt := range tests {
		t.Run(tt.fields, func(t *testing.T) {
			sep := ""
			if tt.fields != "" {
				sep = ","
			}
			p, err := decodeCallsPage([]byte(`{"items":[{"id":"c"` + sep + tt.fields + `}],"has_more":false}`))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.ID, want.NotStarted = "c", true
			if got := p.Items[0]; got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodeCallsPageErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"no id", `{"items":[{"status":"ended"}],"has_more":false}`, "item 0 has no id"},
		{"id as a number", `{"items":[{"id":4242424242}],"has_more":false}`,
			`malformed page: field "items.id" holds a number where a string was expected (offset 16)`},
		{"status as a number", `{"items":[{"id":"c","status":7}],"has_more":false}`,
			`malformed page: field "items.status" holds a number where a string was expected (offset 29)`},
		{"no has_more", `{"items":[]}`, "page has no has_more field"},
		{"truncated in a transcript", `{"items":[{"id":"c","transcript":"HUMAN: my card is 4242`, "malformed page: body ends before the page does"},
		{"broken transcript", `{"items":[{"id":"c","transcript":"4242` + "\x01" + `"}],"has_more":false}`, "malformed page: invalid JSON at offset 38"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeCallsPage([]byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// A 422 is told apart by the parameters its detail names: a sort the
// walk can drop, a size it can halve, or something else.
func TestRejectedParameter(t *testing.T) {
	tests := []struct {
		body string
		want error
	}{
		{`{"detail":[{"loc":["query","sort_column"],"msg":"bad","type":"x"}]}`, errSortRejected},
		{`{"detail":[{"loc":["query","sort_desc"],"msg":"bad","type":"x"}]}`, errSortRejected},
		{`{"detail":[{"loc":["query","size"],"msg":"bad","type":"x"}]}`, errPageSizeRejected},
		{`{"detail":[{"loc":["query","size"],"msg":"x","type":"x"},{"loc":["query","sort_column"],"msg":"x","type":"x"}]}`, errSortRejected},
		{`{"detail":[{"loc":["query","page"],"msg":"bad","type":"x"}]}`, nil},
		{`{"detail":"sort_column is not supported"}`, nil},
		{`not JSON`, nil},
	}
	for _, tt := range tests {
		_, named := errorDetail(strings.NewReader(tt.body))
		if got := rejectedParameter(named); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("%s: %v, want %v", tt.body, got, tt.want)
		}
	}
}
