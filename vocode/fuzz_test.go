package vocode_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/vocode-exporter/vocode_exporter/vocode"
)

// oracleOptions are the options the client decodes with: the fuzzers'
// oracles read the same bytes with plain types, and must read them by the
// same rules (the last of duplicate names wins, invalid UTF-8 is replaced).
var oracleOptions = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// asLabel is what the decoder should make of API text bound for a label
// value: no control characters, at most 128 bytes, whole runes only.
func asLabel(s string) string {
	s = withoutControl(s)
	for len(s) > 128 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// fuzzSecret stands for a Twilio auth token or an OpenAI key. Seeds carry
// the placeholder fuzzPlaceholder where a credential would be; the fuzz
// function swaps in the secret, and also plants it at an arbitrary offset.
const (
	fuzzSecret      = "TWfuzzCanary9Qx2Lm7Pz4"
	fuzzPlaceholder = "@SECRET@"
	// maxErrorLen bounds an error's text: a short description, never a body.
	maxErrorLen = 300
)

// FuzzDecodePage feeds the page decoder anything at all. Whatever the input:
// no panic; an error or a page, never both or neither; an error that quotes
// nothing of the input, so never a secret; a page that agrees with
// the JSON decoder's own reading of the same bytes; and no failure that only
// the hints (total, total_is_estimated, page) could have caused.
func FuzzDecodePage(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzDecodePage.
	f.Add([]byte(`{"items":[],"page":1,"size":100,"has_more":false,"total":0,"total_is_estimated":false}`), uint16(0))
	f.Add([]byte(`{"items":[{"id":"a","type":"account_connection_twilio","credentials":{"twilio_auth_token":"@SECRET@"},"steering_pool":["+15550000001"]}],"has_more":false}`), uint16(90))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		checkDecode(t, data, false)
		checkDecode(t, bytes.ReplaceAll(data, []byte(fuzzPlaceholder), []byte(fuzzSecret)), true)
		pos := int(at) % (len(data) + 1)
		planted := append(append(append([]byte{}, data[:pos]...), fuzzSecret...), data[pos:]...)
		checkDecode(t, planted, true)
	})
}

func checkDecode(t *testing.T, data []byte, secret bool) {
	t.Helper()
	p, err := vocode.DecodePage(bytes.NewReader(data))
	if (p == nil) == (err == nil) {
		t.Fatalf("DecodePage returned page %v and error %v: want exactly one", p, err)
	}
	if err != nil {
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

	// the JSON decoder, asked for the same fields with plain types and the
	// hints kept raw, must see the same page: a page it reads with items,
	// has_more and an id and type for each item decodes, whatever the
	// hints hold; any other page fails.
	var mirror struct {
		Items *[]struct {
			ID           string           `json:"id"`
			Type         string           `json:"type"`
			SteeringPool []jsontext.Value `json:"steering_pool"`
			AnyCallerID  *bool            `json:"account_supports_any_caller_id"`
		} `json:"items"`
		Page             jsontext.Value `json:"page"`
		HasMore          *bool          `json:"has_more"`
		Total            jsontext.Value `json:"total"`
		TotalIsEstimated jsontext.Value `json:"total_is_estimated"`
	}
	valid := json.Unmarshal(data, &mirror, oracleOptions) == nil && mirror.Items != nil && mirror.HasMore != nil
	if valid {
		for _, it := range *mirror.Items {
			valid = valid && asLabel(it.ID) != "" && asLabel(it.Type) != ""
		}
	}
	if valid != (err == nil) {
		t.Fatalf("DecodePage error %v, but the JSON decoder finds the page valid: %v", err, valid)
	}
	if err != nil {
		return
	}

	items := *mirror.Items
	if len(p.Items) != len(items) {
		t.Fatalf("%d items, the JSON decoder sees %d", len(p.Items), len(items))
	}
	if p.HasMore != *mirror.HasMore {
		t.Fatalf("has_more %v, the JSON decoder sees %v", p.HasMore, *mirror.HasMore)
	}
	var page int
	if !asInt(mirror.Page, &page) {
		page = 0
	}
	if p.Page != page {
		t.Fatalf("page %d, the JSON decoder sees %s", p.Page, mirror.Page)
	}
	var total int64
	hasTotal := asInt(mirror.Total, &total) && total >= 0 && total <= 1_000_000_000
	if p.HasTotal != hasTotal || (hasTotal && int64(p.Total) != total) || (!hasTotal && p.Total != 0) {
		t.Fatalf("total %d (has %v), the JSON decoder sees %s", p.Total, p.HasTotal, mirror.Total)
	}
	var estimated bool
	if !isNull(mirror.TotalIsEstimated) && json.Unmarshal(mirror.TotalIsEstimated, &estimated, oracleOptions) != nil {
		estimated = false
	}
	if p.TotalIsEstimated != estimated {
		t.Fatalf("total_is_estimated %v, the JSON decoder sees %s", p.TotalIsEstimated, mirror.TotalIsEstimated)
	}
	for i, c := range p.Items {
		m := items[i]
		if c.ID != asLabel(m.ID) || c.Type != asLabel(m.Type) {
			t.Fatalf("item %d is %q/%q, the JSON decoder sees %q/%q", i, c.ID, c.Type, asLabel(m.ID), asLabel(m.Type))
		}
		if c.SteeringPoolSize != len(m.SteeringPool) {
			t.Fatalf("item %d: steering pool of %d, the JSON decoder sees %d numbers", i, c.SteeringPoolSize, len(m.SteeringPool))
		}
		if want := m.AnyCallerID != nil && *m.AnyCallerID; c.SupportsAnyCallerID != want {
			t.Fatalf("item %d: supports any caller id %v, the JSON decoder sees %v", i, c.SupportsAnyCallerID, want)
		}
	}
}

// asInt reports whether raw is a JSON integer that the JSON decoder decodes
// into *n; null, which it decodes into anything, is not one.
func asInt[T int | int64](raw jsontext.Value, n *T) bool {
	return len(raw) > 0 && !isNull(raw) && json.Unmarshal(raw, n, oracleOptions) == nil
}

func isNull(raw jsontext.Value) bool { return string(raw) == "null" }
