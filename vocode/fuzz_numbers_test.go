package vocode_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// FuzzDecodeNumbersPage feeds the numbers page decoder anything at all, as
// FuzzDecodePage does the connection page decoder. Whatever the input: no
// panic; an error or a page, never both or neither; an error that quotes
// nothing of the input; a page that agrees with the JSON decoder's own
// reading of the same bytes, so no number without an id or a number; and
// a credentials canary that reaches the page only where the input put it
// in a field the page keeps.
func FuzzDecodeNumbersPage(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecodeNumbersPage.
	f.Add([]byte(`{"items":[],"page":1,"size":100,"has_more":false,"total":0,"total_is_estimated":false}`), uint16(0))
	f.Add([]byte(`{"items":[{"id":"n","user_id":"u","number":"+1","telephony_account_connection":{"id":"c","credentials":{"twilio_auth_token":"@SECRET@"}},"inbound_agent":{"id":"a"}}],"has_more":false}`), uint16(120))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		checkDecodeNumbers(t, data, false)
		checkDecodeNumbers(t, bytes.ReplaceAll(data, []byte(fuzzPlaceholder), []byte(fuzzSecret)), true)
		pos := int(at) % (len(data) + 1)
		planted := append(append(append([]byte{}, data[:pos]...), fuzzSecret...), data[pos:]...)
		checkDecodeNumbers(t, planted, true)
	})
}

// numberMirror reads a number with plain types, the union fields kept raw.
type numberMirror struct {
	ID           string         `json:"id"`
	Number       string         `json:"number"`
	Label        string         `json:"label"`
	Provider     string         `json:"telephony_provider"`
	Active       *bool          `json:"active"`
	OutboundOnly bool           `json:"outbound_only"`
	InboundAgent jsontext.Value `json:"inbound_agent"`
	Connection   jsontext.Value `json:"telephony_account_connection"`
}

// want is what the decoder should make of m, or false if m must fail the
// page.
func (m numberMirror) want() (vocode.Number, bool) {
	n := vocode.Number{ID: asLabel(m.ID), Number: asLabel(m.Number), Label: asLabel(m.Label),
		Provider: asLabel(m.Provider), Active: m.Active == nil || *m.Active, OutboundOnly: m.OutboundOnly}
	if n.Provider == "" {
		n.Provider = vocode.ProviderVonage
	}
	switch kind(m.InboundAgent) {
	case 0, 'n':
	case '"':
		var s string
		_ = json.Unmarshal(m.InboundAgent, &s, oracleOptions)
		n.HasInboundAgent = s != ""
	case '{':
		n.HasInboundAgent = true
	default:
		return n, false
	}
	switch kind(m.Connection) {
	case 0, 'n':
	case '"':
		_ = json.Unmarshal(m.Connection, &n.ConnectionID, oracleOptions)
		n.ConnectionID = asLabel(n.ConnectionID)
	case '{':
		var conn struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m.Connection, &conn, oracleOptions) != nil || asLabel(conn.ID) == "" {
			return n, false
		}
		n.ConnectionID = asLabel(conn.ID)
	default:
		return n, false
	}
	return n, n.ID != "" && n.Number != ""
}

// kind is the first byte of a raw JSON value, 0 for none.
func kind(raw jsontext.Value) byte {
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func withoutControl(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

func checkDecodeNumbers(t *testing.T, data []byte, secret bool) {
	t.Helper()
	p, err := vocode.DecodeNumbersPage(bytes.NewReader(data))
	if (p == nil) == (err == nil) {
		t.Fatalf("DecodeNumbersPage returned page %v and error %v: want exactly one", p, err)
	}
	checkErrorText(t, err, secret)

	var mirror struct {
		Items            *[]numberMirror `json:"items"`
		Page             jsontext.Value  `json:"page"`
		HasMore          *bool           `json:"has_more"`
		Total            jsontext.Value  `json:"total"`
		TotalIsEstimated jsontext.Value  `json:"total_is_estimated"`
	}
	valid := json.Unmarshal(data, &mirror, oracleOptions) == nil && mirror.Items != nil && mirror.HasMore != nil
	var want []vocode.Number
	if valid {
		for _, m := range *mirror.Items {
			n, ok := m.want()
			valid = valid && ok
			want = append(want, n)
		}
	}
	if valid != (err == nil) {
		t.Fatalf("DecodeNumbersPage error %v, but the JSON decoder finds the page valid: %v", err, valid)
	}
	if err != nil {
		return
	}

	if p.HasMore != *mirror.HasMore || len(p.Items) != len(want) {
		t.Fatalf("has_more %v and %d items, the JSON decoder sees %v and %d", p.HasMore, len(p.Items), *mirror.HasMore, len(want))
	}
	var page int
	if !asInt(mirror.Page, &page) {
		page = 0
	}
	var total int64
	hasTotal := asInt(mirror.Total, &total) && total >= 0 && total <= 1_000_000_000
	if p.Page != page || p.HasTotal != hasTotal || (hasTotal && int64(p.Total) != total) {
		t.Fatalf("page %d, total %d (has %v); the JSON decoder sees %s, %s", p.Page, p.Total, p.HasTotal, mirror.Page, mirror.Total)
	}
	kept := ""
	for i, n := range p.Items {
		if n.ID == "" || n.Number == "" {
			t.Fatalf("item %d decoded without an id or a number: %+v", i, n)
		}
		if n != want[i] {
			t.Fatalf("item %d is %+v\nthe JSON decoder sees %+v", i, n, want[i])
		}
		kept += want[i].ID + "\x00" + want[i].Number + "\x00" + want[i].Label + "\x00" + want[i].Provider + "\x00" + want[i].ConnectionID + "\x00"
	}
	if secret && !strings.Contains(kept, fuzzSecret) && strings.Contains(fmt.Sprintf("%+v", p), fuzzSecret) {
		t.Fatalf("the secret reached the page from a field it does not keep: %+v", p)
	}
}

// checkErrorText checks that err, if any, is short, valid UTF-8, and free
// of the secret.
func checkErrorText(t *testing.T, err error, secret bool) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if secret && strings.Contains(msg, fuzzSecret) {
		t.Fatalf("the error quotes a secret: %s", msg)
	}
	if len(msg) > maxErrorLen {
		t.Fatalf("a %d-byte error: it quotes input? %.400s", len(msg), msg)
	}
	if !utf8.ValidString(msg) {
		t.Fatalf("the error is not valid UTF-8: %q", msg)
	}
}

// FuzzDecodeUsage feeds the usage decoder anything at all. Whatever the
// input: no panic; an error or a usage, never both or neither; an error
// that quotes nothing of the input; a usage whose plan has no control
// characters and holds the canary only if plan_type did; and one that
// reads back the same once written out as the API would.
func FuzzDecodeUsage(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecodeUsage.
	f.Add([]byte(`{"user_id":"u","plan_type":"plan_enterprise","monthly_usage_minutes":42,"monthly_usage_limit_minutes":null}`), uint16(0))
	f.Add([]byte(`{"user_id":"@SECRET@","plan_type":"plan_free","monthly_usage_minutes":1,"monthly_usage_limit_minutes":10}`), uint16(13))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		checkDecodeUsage(t, data, false)
		checkDecodeUsage(t, bytes.ReplaceAll(data, []byte(fuzzPlaceholder), []byte(fuzzSecret)), true)
		pos := int(at) % (len(data) + 1)
		planted := append(append(append([]byte{}, data[:pos]...), fuzzSecret...), data[pos:]...)
		checkDecodeUsage(t, planted, true)
	})
}

func checkDecodeUsage(t *testing.T, data []byte, secret bool) {
	t.Helper()
	u, err := vocode.DecodeUsage(bytes.NewReader(data))
	if (u == nil) == (err == nil) {
		t.Fatalf("DecodeUsage returned usage %v and error %v: want exactly one", u, err)
	}
	checkErrorText(t, err, secret)
	if err != nil {
		return
	}
	if strings.IndexFunc(u.Plan, unicode.IsControl) >= 0 {
		t.Fatalf("plan %q holds control characters", u.Plan)
	}
	if !u.HasLimit && u.LimitMinutes != 0 {
		t.Fatalf("no limit, but a limit of %d", u.LimitMinutes)
	}
	if secret && strings.Contains(u.Plan, fuzzSecret) {
		// Only plan_type itself may have brought it.
		var plan struct {
			Plan string `json:"plan_type"`
		}
		if json.Unmarshal(data, &plan, oracleOptions) != nil || !strings.Contains(withoutControl(plan.Plan), fuzzSecret) {
			t.Fatalf("the secret reached the plan %q from elsewhere", u.Plan)
		}
	}

	// Written out as the API would, it reads back the same.
	limit := "null"
	if u.HasLimit {
		limit = strconv.FormatInt(u.LimitMinutes, 10)
	}
	plan, _ := json.Marshal("plan_" + u.Plan)
	again, err := vocode.DecodeUsage(strings.NewReader(fmt.Sprintf(
		`{"user_id":"u","plan_type":%s,"monthly_usage_minutes":%d,"monthly_usage_limit_minutes":%s}`, plan, u.Minutes, limit)))
	if err != nil || *again != *u {
		t.Fatalf("%+v reads back as %+v, %v", *u, again, err)
	}
}
