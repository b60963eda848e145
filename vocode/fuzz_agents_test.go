package vocode_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// FuzzDecodeAgentsPage feeds the agents page decoder anything at all.
// Whatever the input: no panic; an error or a page, never both or neither;
// an error that quotes nothing of the input; a page that agrees with the
// JSON decoder's own reading of the id, the name and whether the three
// settings are set; and a planted secret (an OpenAI key, a prompt, a
// webhook URL's token) that reaches the page only where the input put it
// in an id or a name.
func FuzzDecodeAgentsPage(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecodeAgentsPage.
	f.Add([]byte(`{"items":[],"page":1,"size":100,"has_more":false,"total":0,"total_is_estimated":false}`), uint16(0))
	f.Add([]byte(`{"items":[{"id":"a","user_id":"u","name":"Front desk","prompt":{"content":"@SECRET@"},`+
		`"openai_account_connection":{"id":"o","type":"account_connection_openai","credentials":{"openai_api_key":"@SECRET@"}},`+
		`"llm_fallback":{"provider":"azure","model_name":"gpt-4o"},"webhook":{"id":"w","url":"https://h.example/?token=@SECRET@"}},`+
		`{"id":"b","name":null,"openai_account_connection":"o-2","webhook":"w-2","llm_fallback":null},{"id":"c"}],"has_more":true,"total":3}`), uint16(70))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		checkDecodeAgents(t, data, false)
		checkDecodeAgents(t, bytes.ReplaceAll(data, []byte(fuzzPlaceholder), []byte(fuzzSecret)), true)
		pos := int(at) % (len(data) + 1)
		planted := append(append(append([]byte{}, data[:pos]...), fuzzSecret...), data[pos:]...)
		checkDecodeAgents(t, planted, true)
	})
}

// agentMirror reads an agent with plain types, the settings kept raw.
type agentMirror struct {
	ID          string         `json:"id"`
	Name        *string        `json:"name"`
	OpenAI      jsontext.Value `json:"openai_account_connection"`
	LLMFallback jsontext.Value `json:"llm_fallback"`
	Webhook     jsontext.Value `json:"webhook"`
}

// want is what the decoder should make of m, or false if m must fail the
// page.
func (m agentMirror) want() (vocode.Agent, bool) {
	a := vocode.Agent{ID: asLabel(m.ID)}
	if m.Name != nil {
		a.Name = asLabel(*m.Name)
	}
	ok := a.ID != ""
	a.OwnOpenAIConnection, ok = isSet(m.OpenAI, true, ok)
	a.LLMFallback, ok = isSet(m.LLMFallback, false, ok)
	a.Webhook, ok = isSet(m.Webhook, true, ok)
	return a, ok
}

// isSet reads a setting as the decoder should: an object is set, null or
// nothing is not, a string is when not empty (where idOK); anything else
// fails the page, which ok then says.
func isSet(raw jsontext.Value, idOK, ok bool) (bool, bool) {
	switch kind(raw) {
	case 0, 'n':
		return false, ok
	case '{':
		return true, ok
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s, oracleOptions)
		return s != "", ok && idOK
	}
	return false, false
}

func checkDecodeAgents(t *testing.T, data []byte, secret bool) {
	t.Helper()
	p, err := vocode.DecodeAgentsPage(bytes.NewReader(data))
	if (p == nil) == (err == nil) {
		t.Fatalf("DecodeAgentsPage returned page %v and error %v: want exactly one", p, err)
	}
	checkErrorText(t, err, secret)

	var mirror struct {
		Items   *[]agentMirror `json:"items"`
		HasMore *bool          `json:"has_more"`
	}
	valid := json.Unmarshal(data, &mirror, oracleOptions) == nil && mirror.Items != nil && mirror.HasMore != nil
	var want []vocode.Agent
	if valid {
		for _, m := range *mirror.Items {
			a, ok := m.want()
			valid = valid && ok
			want = append(want, a)
		}
	}
	if valid != (err == nil) {
		t.Fatalf("DecodeAgentsPage error %v, but the JSON decoder finds the page valid: %v", err, valid)
	}
	if err != nil {
		return
	}
	if p.HasMore != *mirror.HasMore || len(p.Items) != len(want) {
		t.Fatalf("has_more %v and %d items, the JSON decoder sees %v and %d", p.HasMore, len(p.Items), *mirror.HasMore, len(want))
	}
	kept := ""
	for i, a := range p.Items {
		if a != want[i] {
			t.Fatalf("item %d is %+v\nthe JSON decoder sees %+v", i, a, want[i])
		}
		kept += a.ID + "\x00" + a.Name + "\x00"
	}
	if secret && !strings.Contains(kept, fuzzSecret) && strings.Contains(fmt.Sprintf("%+v", p), fuzzSecret) {
		t.Fatalf("the secret reached the page from a field it does not keep: %+v", p)
	}
}
