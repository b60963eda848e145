package vocode_test

import (
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// depthMirror reads the fields of a call only the deeper counts use, raw
// (end_time is callMirror's).
type depthMirror struct {
	Human jsontext.Value `json:"human_detection_result"`
	Agent jsontext.Value `json:"agent"`
}

// checkCallDepth checks what the decoder made of the deeper fields of call
// i against the JSON decoder's reading: human_detection_result as an enum
// ("" for null or none, other for any other value or kind), agent as the
// id a string or an embedded agent holds, cut as a label value.
func checkCallDepth(t *testing.T, i int, c vocode.Call, m depthMirror) {
	t.Helper()
	var human string
	switch kind(m.Human) {
	case 0, 'n':
	case '"':
		_ = json.Unmarshal(m.Human, &human, oracleOptions)
		human = enum(human, vocode.HumanDetectionResults)
		if human == "" {
			human = vocode.CallOther
		}
	default:
		human = vocode.CallOther
	}
	if c.HumanDetection != human {
		t.Fatalf("call %d: human detection %q from %s, want %q", i, c.HumanDetection, m.Human, human)
	}
	var agent string
	switch kind(m.Agent) {
	case '"':
		_ = json.Unmarshal(m.Agent, &agent, oracleOptions)
	case '{':
		var embedded struct {
			ID jsontext.Value `json:"id"`
		}
		_ = json.Unmarshal(m.Agent, &embedded, oracleOptions)
		if kind(embedded.ID) == '"' {
			_ = json.Unmarshal(embedded.ID, &agent, oracleOptions)
		}
	}
	if want := asLabel(agent); c.Agent != want {
		t.Fatalf("call %d: agent %q from %s, want %q", i, c.Agent, m.Agent, want)
	}
}
